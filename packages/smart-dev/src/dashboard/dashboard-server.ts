import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { AtlasClient, Instance } from 'atlas-client';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DevServiceProcess } from '../dev-service.ts';
import { liveVersions, versionsText } from '../monitor/live-versions.ts';
import { MetricsCollector } from '../monitor/metrics-collector.ts';
import { seriesName } from '../monitor/metrics-history.ts';
import { packageDir } from '../package-dir.ts';
import type { DevLogLine } from '../types.ts';
import { LogFeed } from './log-feed.ts';
import { decodeTraces } from './otlp.ts';
import { TraceStore } from './trace-store.ts';

/** What the dashboard reads from the dev session it belongs to. */
export interface DashboardSource {
  readonly services: ReadonlyMap<string, DevServiceProcess>;
  readonly atlasUrl: string;
  atlasClient(): AtlasClient | undefined;
  logs(): readonly DevLogLine[];
  on(event: 'log', listener: (line: DevLogLine) => void): unknown;
}

/** Options of `startDashboard`. */
export interface DashboardOptions {
  readonly source: DashboardSource;
  /** 0 for any free port. */
  readonly port: number;
  readonly host?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Where services send OTLP/HTTP traces (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  readonly otlpEndpoint: string;
  readonly traces: TraceStore;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// A value typed in the Config panel: JSON when it parses (numbers, booleans, arrays), else the text itself.
function parseTyped(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface ProbeAnswer {
  readonly keys?: readonly { key: string; value: unknown; source: string; secret: boolean }[];
  readonly rejections?: readonly { time: number; message: string; issues: unknown }[];
  readonly error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The dev dashboard: an OTLP/HTTP receiver (`POST /v1/traces`, protobuf or
 * JSON), the session's services and Atlas instances, their logs (live),
 * each service's config with its provenance (edited through Atlas), and
 * per-service and per-upstream rates from every instance's `/metrics`; and
 * the page that shows them (a bundle built from `ui/src`, served from
 * `ui/bundle`: nothing is fetched from the internet).
 *
 * @example
 * const dashboard = await startDashboard({ source: session, port: 4200 });
 * console.log(dashboard.url);
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { source } = options;
  const traces = new TraceStore(1_000);
  const feed = new LogFeed(5_000);
  const drained = new Map<string, Instance>();
  const track = (line: DevLogLine) => {
    const entry = feed.push(line);
    if (entry.requestId && entry.traceId) traces.linkRequest(entry.requestId, entry.traceId);
  };
  for (const line of source.logs()) track(line);
  source.on('log', track);
  const collector = new MetricsCollector(() =>
    [...source.services.values()].flatMap((s) => s.instances.map((i) => ({ service: s.name, url: i.url }))),
  );
  collector.start();

  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  app.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // The page runs in the user's browser beside any other site: only a page
  // served from this loopback address may use the API (no DNS rebinding: the
  // Host must be loopback), and changes need a header a cross-site form or
  // image cannot send (it would need a CORS preflight, which is never granted).
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const host = String(request.headers.host ?? '').replace(/:\d+$/, '');
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) return reply.code(403).send({ error: 'loopback only' });
    if (request.method !== 'GET' && request.headers['x-smart-dev'] !== '1') {
      return reply.code(403).send({ error: 'send x-smart-dev: 1 (the dashboard page does)' });
    }
  });
  routes(app, { source, traces, feed, drained, collector });
  const dir = join(packageDir(), 'ui', 'bundle');
  app.get('/', async (_req, reply) =>
    reply.type(TYPES['.html'] as string).send(await readFile(join(dir, 'index.html'))),
  );
  app.get('/assets/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    if (!/^[\w.-]+$/.test(file) || !existsSync(join(dir, file))) return reply.code(404).send({ error: 'no such file' });
    return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').send(await readFile(join(dir, file)));
  });

  const address = await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const url = address.replace('[::1]', '127.0.0.1');
  return {
    url,
    otlpEndpoint: url,
    traces,
    async close() {
      collector.stop();
      await app.close();
    },
  };
}

interface Parts {
  readonly source: DashboardSource;
  readonly traces: TraceStore;
  readonly feed: LogFeed;
  readonly drained: Map<string, Instance>;
  readonly collector: MetricsCollector;
}

function routes(app: FastifyInstance, parts: Parts): void {
  const { source, traces, feed, drained, collector } = parts;
  const service = (name: string) => source.services.get(name);

  app.post('/v1/traces', async (request, reply) => {
    const type = String(request.headers['content-type'] ?? 'application/json');
    try {
      traces.add(decodeTraces(request.body, type));
    } catch (err) {
      return reply.code(400).send({ error: `not an OTLP trace export: ${(err as Error).message}` });
    }
    // An empty ExportTraceServiceResponse, in the encoding it came in.
    return type.includes('protobuf') ? reply.type('application/x-protobuf').send(Buffer.alloc(0)) : {};
  });

  app.get('/api/services', async () => {
    const now = Date.now();
    return {
      atlasUrl: source.atlasUrl,
      realm: 'local',
      services: [...source.services.values()].map((s) => {
        // The live instances' (version, API hash) pairs: more than one and they disagree.
        const versions = liveVersions(s.instances);
        return {
          name: s.name,
          dir: s.dir,
          url: s.url,
          pid: s.pid,
          state: s.state,
          restarts: s.restarts,
          uptimeMs: s.pid === undefined ? undefined : now - s.startedAt,
          versions,
          versionsText: versionsText(versions),
          disagree: versions.length > 1,
          instances: [
            ...s.instances.map((i) => ({ ...i, state: 'up', uptimeMs: now - i.registeredAt })),
            ...[...drained.values()]
              .filter((i) => i.service === s.name && !s.instances.some((live) => live.id === i.id))
              .map((i) => ({ ...i, state: 'drained', uptimeMs: now - i.registeredAt })),
          ],
        };
      }),
    };
  });

  app.post('/api/services/:name/restart', async (request, reply) => {
    const s = service((request.params as { name: string }).name);
    if (!s) return reply.code(404).send({ error: 'no such service' });
    void s.restart();
    return { restarting: s.name };
  });

  app.post('/api/services/:name/instances/:id/:action', async (request, reply) => {
    const { name, id, action } = request.params as { name: string; id: string; action: string };
    const s = service(name);
    const client = source.atlasClient();
    if (!s || !client || (action !== 'drain' && action !== 'undrain'))
      return reply.code(404).send({ error: 'no such instance' });
    const instance = s.instances.find((i) => i.id === id) ?? drained.get(id);
    if (!instance) return reply.code(404).send({ error: 'no such instance' });
    // Drained: Atlas stops resolving it (callers go elsewhere); the process runs on.
    await client.setDisabled(name, id, action === 'drain');
    if (action === 'drain') drained.set(id, instance);
    else drained.delete(id);
    return { [action === 'drain' ? 'drained' : 'undrained']: id };
  });

  app.get('/api/traces', async (request) => {
    const { q } = request.query as { q?: string };
    return { traces: traces.list(q || undefined).slice(0, 200) };
  });

  app.get('/api/traces/:id', async (request, reply) => {
    const id = traces.find((request.params as { id: string }).id);
    const summary = id ? traces.summary(id) : undefined;
    if (!id || !summary) return reply.code(404).send({ error: 'no such trace' });
    return { summary, spans: traces.spans(id), logs: feed.of({ traceId: id, requestId: summary.requestId }) };
  });

  app.get('/api/logs', async (request) => {
    const { after } = request.query as { after?: string };
    return { lines: feed.since(Number(after ?? 0)) };
  });

  app.get('/api/logs/stream', (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const after = Number((request.query as { after?: string }).after ?? 0);
    for (const line of feed.since(after)) reply.raw.write(`data: ${JSON.stringify(line)}\n\n`);
    const off = feed.subscribe((line) => reply.raw.write(`data: ${JSON.stringify(line)}\n\n`));
    request.raw.on('close', off);
  });

  app.get('/api/config/:name', async (request, reply) => {
    const s = service((request.params as { name: string }).name);
    if (!s) return reply.code(404).send({ error: 'no such service' });
    const answer = (await s.ask({ what: 'config' })) as ProbeAnswer | undefined;
    if (!answer) return reply.code(503).send({ error: `${s.name} is not running (or does not answer)` });
    return answer;
  });

  app.put('/api/config/:name', async (request, reply) => {
    const s = service((request.params as { name: string }).name);
    const { key, value: text } = (request.body ?? {}) as { key?: string; value?: string };
    const client = source.atlasClient();
    if (!s || !client) return reply.code(404).send({ error: 'no such service' });
    if (typeof key !== 'string' || typeof text !== 'string')
      return reply.code(400).send({ error: 'key and value are strings' });
    const before = (await s.ask({ what: 'config' })) as ProbeAnswer | undefined;
    const known = before?.keys?.find((k) => k.key === key);
    if (!before?.keys) return reply.code(503).send({ error: `${s.name} is not running (or does not answer)` });
    if (!known) return reply.code(400).send({ error: `${s.name} has no config key ${key}` });
    if (known.secret) {
      return reply
        .code(400)
        .send({ error: `${key} is a secret: set it with smart-atlas config set --secret, not from the dashboard` });
    }
    const value = parseTyped(text);
    const previous = (await client.getConfig(s.name, 'local')).data.entries.find(
      (e) => e.key === key && e.source !== '_global',
    );
    const seen = before.rejections?.length ?? 0;
    try {
      await client.setConfig(s.name, 'local', key, value);
    } catch (err) {
      // Atlas checks a value against the schema the service published, when it has one: its refusal is the answer.
      const status = (err as { status?: number }).status;
      if (status !== undefined && status >= 400 && status < 500) {
        return reply.code(422).send({
          error: `Atlas refused it: ${(err as Error).message.replace(/^Atlas answered \d+ to \S+ \S+: /, '')}`,
        });
      }
      throw err;
    }
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      await sleep(100);
      const now = (await s.ask({ what: 'config', key })) as ProbeAnswer | undefined;
      const rejected = now?.rejections?.slice(seen).at(-1);
      if (rejected) {
        // The service keeps its last good value: Atlas goes back to it too, so it does not hold a value nobody runs.
        if (previous) await client.setConfig(s.name, 'local', key, previous.value);
        else await client.unsetConfig(s.name, 'local', key);
        return reply.code(422).send({ error: rejected.message, issues: rejected.issues });
      }
      const applied = now?.keys?.find((k) => k.key === key);
      if (applied && JSON.stringify(applied.value) === JSON.stringify(value)) return { applied };
    }
    return reply.code(504).send({ error: `${s.name} did not apply ${key} within 5 s (is it watching Atlas?)` });
  });

  app.get('/api/monitor', async () => {
    const history = collector.history;
    const services = [...history.services()].map(([name, upstreams]) => ({ name, upstreams }));
    const series: Record<string, unknown> = {};
    for (const { name, upstreams } of services) {
      series[name] = history.points(name);
      for (const upstream of upstreams) series[seriesName(name, upstream)] = history.points(seriesName(name, upstream));
    }
    return { services, series };
  });
}
