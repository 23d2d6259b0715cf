import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ApiChangeKind, diffApis } from '../src/api/diff.ts';

type Doc = Record<string, unknown>;
type Op = Record<string, unknown>;

const json = (schema: unknown) => ({ 'application/json': { schema } });

/** A one-route document: GET or POST /orders/{id} with a query, a body and an answer. */
function doc(change: (op: Op & { responses: Record<string, Op> }) => void = () => {}, extra: Doc = {}): Doc {
  const op = {
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'integer' } },
      { name: 'expand', in: 'query', required: false, schema: { type: 'boolean' } },
    ],
    requestBody: {
      required: true,
      content: json({
        type: 'object',
        properties: {
          item: { type: 'string', maxLength: 40 },
          note: { type: 'string' },
          size: { type: 'string', enum: ['s', 'm', 'l'] },
          count: { type: 'integer' },
        },
        required: ['item'],
      }),
    },
    responses: {
      '200': {
        description: 'ok',
        content: json({
          type: 'object',
          properties: {
            id: { type: 'integer' },
            total: { type: 'number' },
            state: { type: 'string', enum: ['open', 'paid'] },
            note: { type: 'string' },
          },
          required: ['id', 'total', 'state'],
        }),
      },
    },
  };
  change(op);
  return {
    openapi: '3.1.0',
    info: { title: 'orders', version: '1' },
    paths: { '/orders/{id}': { post: op }, ...extra },
  };
}

const body = (op: Op) =>
  (op.requestBody as { content: Record<string, { schema: Doc }> }).content['application/json']?.schema as {
    properties: Record<string, Doc>;
    required: string[];
  };
const answer = (op: { responses: Record<string, Op> }) =>
  (op.responses['200'] as { content: Record<string, { schema: Doc }> }).content['application/json']?.schema as {
    properties: Record<string, Doc>;
    required: string[];
  };

const table: [string, Doc, ApiChangeKind, boolean][] = [
  ['route removed', { openapi: '3.1.0', info: { title: 'orders', version: '1' }, paths: {} }, 'route-removed', true],
  [
    'route added',
    doc(() => {}, { '/health-report': { get: { responses: { '200': { description: 'ok' } } } } }),
    'route-added',
    false,
  ],
  [
    'new required query parameter',
    doc((op) =>
      (op.parameters as Op[]).push({ name: 'shop', in: 'query', required: true, schema: { type: 'string' } }),
    ),
    'input-required',
    true,
  ],
  [
    'new optional query parameter',
    doc((op) => (op.parameters as Op[]).push({ name: 'shop', in: 'query', schema: { type: 'string' } })),
    'input-added',
    false,
  ],
  [
    'optional query parameter made required',
    doc((op) => (((op.parameters as Op[])[1] as Op).required = true)),
    'input-required',
    true,
  ],
  [
    'new required body field',
    doc((op) => {
      body(op).properties.coupon = { type: 'string' };
      body(op).required.push('coupon');
    }),
    'input-required',
    true,
  ],
  [
    'new optional body field',
    doc((op) => {
      body(op).properties.coupon = { type: 'string' };
    }),
    'field-added',
    false,
  ],
  ['optional body field made required', doc((op) => body(op).required.push('note')), 'input-required', true],
  [
    'body field type changed',
    doc((op) => {
      body(op).properties.count = { type: 'string' };
    }),
    'type-changed',
    true,
  ],
  [
    'body field widened to null',
    doc((op) => {
      body(op).properties.note = { anyOf: [{ type: 'string' }, { type: 'null' }] };
    }),
    'type-widened',
    false,
  ],
  [
    'body enum narrowed',
    doc((op) => {
      body(op).properties.size = { type: 'string', enum: ['s', 'm'] };
    }),
    'enum-narrowed',
    true,
  ],
  [
    'body enum widened',
    doc((op) => {
      body(op).properties.size = { type: 'string', enum: ['s', 'm', 'l', 'xl'] };
    }),
    'enum-widened',
    false,
  ],
  [
    'body maxLength lowered',
    doc((op) => {
      body(op).properties.item = { type: 'string', maxLength: 20 };
    }),
    'constraint-narrowed',
    true,
  ],
  [
    'body maxLength raised',
    doc((op) => {
      body(op).properties.item = { type: 'string', maxLength: 80 };
    }),
    'constraint-widened',
    false,
  ],
  [
    'body field no longer read',
    doc((op) => {
      delete body(op).properties.note;
    }),
    'field-removed',
    false,
  ],
  [
    'response field removed',
    doc((op) => {
      delete answer(op).properties.total;
      answer(op).required = ['id', 'state'];
    }),
    'field-removed',
    true,
  ],
  [
    'response field added',
    doc((op) => {
      answer(op).properties.paidAt = { type: 'string' };
    }),
    'field-added',
    false,
  ],
  [
    'response field type changed',
    doc((op) => {
      answer(op).properties.total = { type: 'string' };
    }),
    'type-changed',
    true,
  ],
  [
    'response field made optional',
    doc((op) => {
      answer(op).required = ['id', 'state'];
    }),
    'field-optional',
    true,
  ],
  [
    'response field may be null',
    doc((op) => {
      answer(op).properties.total = { type: ['number', 'null'] };
    }),
    'type-widened',
    true,
  ],
  [
    'response enum widened',
    doc((op) => {
      answer(op).properties.state = { type: 'string', enum: ['open', 'paid', 'void'] };
    }),
    'enum-widened',
    true,
  ],
  [
    'response enum narrowed',
    doc((op) => {
      answer(op).properties.state = { type: 'string', enum: ['open'] };
    }),
    'enum-narrowed',
    false,
  ],
  [
    'success status changed 200 -> 201',
    doc((op) => {
      op.responses = { '201': op.responses['200'] as Op };
    }),
    'status-removed',
    true,
  ],
  ['query parameter removed', doc((op) => (op.parameters as Op[]).splice(1, 1)), 'input-removed', false],
];

describe('smart api diff: breaking changes between two OpenAPI documents', () => {
  it.each(table)('classifies "%s"', (_name, next, kind, breaking) => {
    const changes = diffApis(doc(), next);
    // The change itself first (breaking ones lead); a changed status is also a new one.
    expect(changes[0]).toMatchObject({ kind, breaking });
    expect(changes.length).toBe(kind === 'status-removed' ? 2 : 1);
    expect(changes.some((c) => c.breaking)).toBe(breaking);
  });

  it('finds nothing between a document and itself, or one that only renamed a path parameter', () => {
    expect(diffApis(doc(), doc())).toEqual([]);
    const renamed = doc();
    const paths = renamed.paths as Record<string, unknown>;
    paths['/orders/{orderId}'] = paths['/orders/{id}'];
    delete paths['/orders/{id}'];
    const op = (paths['/orders/{orderId}'] as { post: { parameters: Op[] } }).post;
    op.parameters = [{ ...op.parameters[0], name: 'orderId' }, ...op.parameters.slice(1)];
    expect(diffApis(doc(), renamed)).toEqual([]);
  });

  it('follows $refs into components', () => {
    const withRef = (total: Doc) => ({
      openapi: '3.1.0',
      info: { title: 'x', version: '1' },
      components: { schemas: { Order: { type: 'object', properties: { total }, required: ['total'] } } },
      paths: {
        '/o': {
          get: { responses: { '200': { description: 'ok', content: json({ $ref: '#/components/schemas/Order' }) } } },
        },
      },
    });
    expect(diffApis(withRef({ type: 'number' }), withRef({ type: 'string' }))).toMatchObject([
      { kind: 'type-changed', breaking: true, message: 'GET /o: response 200 .total: type number -> string' },
    ]);
  });

  it('exits 1 with the list on a breaking change, 0 once it is declared in the accept file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-diff-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const [before, after, accept] = ['old.json', 'new.json', 'accepted.txt'].map((f) => join(dir, f)) as [
      string,
      string,
      string,
    ];
    await writeFile(before, JSON.stringify(doc()));
    await writeFile(after, JSON.stringify(table[15]?.[1]));
    const bin = new URL('../bin/smart.ts', import.meta.url).pathname;
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [bin, 'api', 'diff', ...args]).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
    const refused = await run(before, after);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('BREAKING: POST /orders/{id}: response 200 .total: removed');
    expect(refused.out).toContain('1 breaking change');
    await writeFile(
      accept,
      '# dropped total: clients read it from /invoices now\nPOST /orders/{id}: response 200 .total: removed\n',
    );
    const accepted = await run(before, after, '--accept', accept);
    expect(accepted).toMatchObject({ code: 0 });
    expect(accepted.out).toContain('accepted breaking: POST /orders/{id}: response 200 .total: removed');
    expect((await run(before, before)).out).toContain('no changes to the API');
  });
});
