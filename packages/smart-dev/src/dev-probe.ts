// Loaded into every service smart dev runs (`node --import`), never into a
// service's own code: it answers the dashboard's questions over the IPC
// channel smart dev opened, so nothing is exposed on the service's port (no
// route a user's auth hook could block, nothing reachable from outside).
// It finds the service's app through Fastify's `fastify.initialization`
// diagnostics channel, and asks its config for `explain()` (secrets come out
// redacted there, so no secret value ever leaves the process).
import { subscribe } from 'node:diagnostics_channel';

/** The slice of a smart service's app the probe reads. */
interface ProbedApp {
  readonly smartConfig?: {
    explain(key?: string): unknown[];
    on(event: 'error', listener: (err: Error & { issues?: unknown }) => void): () => void;
  };
}

/** A live config update the service refused, as the dashboard shows it. */
interface Rejection {
  readonly time: number;
  readonly message: string;
  readonly issues: unknown;
}

const apps: ProbedApp[] = [];
const rejections: Rejection[] = [];

subscribe('fastify.initialization', (message) => {
  const app = (message as { fastify: ProbedApp }).fastify;
  apps.push(app);
  // createSmartService decorates `smartConfig` right after Fastify() returns, in the same synchronous run.
  queueMicrotask(() => {
    app.smartConfig?.on('error', (err) => {
      rejections.push({ time: Date.now(), message: err.message, issues: err.issues ?? [] });
      if (rejections.length > 50) rejections.shift();
    });
  });
});

function answer(question: { what?: string; key?: string }): unknown {
  const app = apps.find((a) => a.smartConfig);
  if (!app?.smartConfig) return { error: 'no smart service in this process' };
  if (question.what === 'config') return { keys: app.smartConfig.explain(question.key), rejections: [...rejections] };
  return { error: `unknown question ${question.what}` };
}

if (process.send && process.channel) {
  process.on('message', (message: { smartDev?: string; id?: number; what?: string; key?: string }) => {
    if (message?.smartDev !== 'ask' || typeof message.id !== 'number') return;
    let result: unknown;
    try {
      result = answer(message);
    } catch (err) {
      result = { error: (err as Error).message };
    }
    process.send?.({ smartDev: 'reply', id: message.id, result });
  });
  // Never keep the service alive for this channel (smart dev's guard unrefs it too).
  process.channel.unref();
}
