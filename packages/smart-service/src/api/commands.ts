/**
 * The `smart api` commands: `export` (the app's document, for the release
 * record), `diff` (breaking changes between two documents) and `client`
 * (a typed client module from a document). Thin: each reads its inputs,
 * calls a pure function and says what it did.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadApp } from '../cli.ts';
import { generateClientModule } from './client-module.ts';
import { type ApiChange, diffApis, formatChanges } from './diff.ts';

/** A document from a file or an `http(s)://` URL (a running service's `/openapi.json`). */
export async function readApiDocument(source: string): Promise<Record<string, unknown>> {
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${source} answered ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }
  return JSON.parse(await readFile(resolve(source), 'utf8')) as Record<string, unknown>;
}

/** The document as written to a file: stable, two-space JSON with a final newline (reviewable diffs). */
export const documentText = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

/**
 * `smart api export`: builds the app (without listening), writes its
 * OpenAPI document. With `--out openapi/released.json` at a release, it is
 * the record later versions are compared with.
 *
 * @example
 * await apiExportCommand({ app: 'src/app.ts', out: 'openapi/released.json' });
 */
export async function apiExportCommand(options: { app: string; out?: string }): Promise<string> {
  const app = await loadApp(options.app);
  try {
    await app.ready();
    const text = documentText(app.openapi.document);
    if (options.out) {
      await mkdir(dirname(resolve(options.out)), { recursive: true });
      await writeFile(resolve(options.out), text);
    }
    return text;
  } finally {
    await app.close();
  }
}

/** The breaking changes a file declares accepted: one change line (as `smart api diff` prints it) a line, `#` comments. */
export async function acceptedChanges(file: string | undefined): Promise<Set<string>> {
  if (!file) return new Set();
  const text = await readFile(resolve(file), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return new Set(
    text
      .split('\n')
      .map((line) => line.replace(/^(BREAKING|accepted breaking):\s*/, '').trim())
      .filter((line) => line && !line.startsWith('#')),
  );
}

/**
 * `smart api diff <old> <new>`: the report and the exit code, 1 when a
 * breaking change is neither declared in `accept` nor allowed.
 *
 * @example
 * const { report, exitCode } = await apiDiffCommand({ old: 'openapi/released.json', new: 'http://127.0.0.1:3000/openapi.json' });
 */
export async function apiDiffCommand(options: {
  old: string;
  new: string;
  accept?: string;
  allowBreaking?: boolean;
}): Promise<{ report: string; exitCode: number; changes: ApiChange[] }> {
  const [before, after] = await Promise.all([readApiDocument(options.old), readApiDocument(options.new)]);
  const changes = diffApis(before, after);
  const accepted = await acceptedChanges(options.accept);
  const unaccepted = changes.filter((c) => c.breaking && !accepted.has(c.message));
  return {
    report: formatChanges(changes, accepted),
    exitCode: unaccepted.length > 0 && !options.allowBreaking ? 1 : 0,
    changes,
  };
}

/**
 * `smart api client <url-or-file>`: writes (or returns) the typed client
 * module of the service the document describes.
 *
 * @example
 * await apiClientCommand({ source: 'http://127.0.0.1:3002/openapi.json', out: 'src/clients/pricing.ts' });
 */
export async function apiClientCommand(options: { source: string; out?: string; service?: string }): Promise<string> {
  const doc = await readApiDocument(options.source);
  const text = generateClientModule(doc, {
    source: options.source,
    ...(options.service ? { service: options.service } : {}),
  });
  if (options.out) {
    await mkdir(dirname(resolve(options.out)), { recursive: true });
    await writeFile(resolve(options.out), text);
  }
  return text;
}
