import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createSmartService } from 'smart-service';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createSidecarService } from '../src/sidecar-service.ts';
import {
  atlasClient,
  ensureHaproxy,
  freePort,
  reached,
  register,
  sink,
  startAtlas,
  tempDir,
  upstream,
  within,
} from './helper.ts';

async function sidecarEnv(atlasUrl: string) {
  return {
    SMART_REALM: 'local',
    SMART_ATLAS_URL: atlasUrl,
    SMART_HTTP__PORT: '0',
    SMART_SIDECAR__LISTEN: String(await freePort()),
    SMART_SIDECAR__STATS_PORT: String(await freePort()),
    SMART_SIDECAR__DIR: tempDir(),
    SMART_SIDECAR__HAPROXY_BIN: ensureHaproxy(),
    SMART_SHUTDOWN__DRAIN_DELAY_MS: '0',
  };
}

describe('the smart-sidecar service', () => {
  it('is a smart service: ready once HAProxy runs, with its metrics and HAProxy’s own', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const users = await upstream('u1');
    await register(atlas, 'userstore', 'u1', users.port);
    const env = await sidecarEnv(atlasServer.base);
    const app = await createSidecarService({ env, logDestination: sink() });
    onTestFinished(() => app.close());
    const ready = await app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toHaveProperty('haproxy');
    expect(await reached(Number(env.SMART_SIDECAR__LISTEN), 'userstore', 3)).toEqual(new Set(['u1']));

    const metrics = (await app.inject('/metrics')).body;
    for (const name of [
      /^sidecar_renders_total\{[^}]*\} 1$/m,
      /^# TYPE sidecar_runtime_changes_total counter$/m,
      /^# TYPE sidecar_reload_duration_seconds histogram$/m,
      /^# TYPE sidecar_refused_total counter$/m,
      /^sidecar_atlas_lag_seconds\{[^}]*\} 0$/m,
    ])
      expect(metrics).toMatch(name);
    const haproxy = await fetch(`http://127.0.0.1:${env.SMART_SIDECAR__STATS_PORT}/metrics`);
    expect(await haproxy.text()).toContain('proxy="svc_userstore"');
  });

  it('lets a smart service with client.via = "sidecar" call service:// names through it', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const users = await upstream('u1');
    await register(atlas, 'userstore', 'u1', users.port);
    const env = await sidecarEnv(atlasServer.base);
    const sidecar = await createSidecarService({ env, logDestination: sink() });
    onTestFinished(() => sidecar.close());
    const caller = await createSmartService({
      name: 'frontend',
      env: {
        SMART_REALM: 'local',
        SMART_CLIENT__VIA: 'sidecar',
        SMART_CLIENT__SIDECAR__PORT: env.SMART_SIDECAR__LISTEN,
      },
      logDestination: sink(),
    });
    onTestFinished(() => caller.close());
    expect(await caller.client.get('service://userstore/users/42')).toEqual({
      instance: 'u1',
      url: '/users/42',
      service: 'userstore',
    });
  });

  it('runs from its bin with --atlas, --realm and --listen, and stops HAProxy on SIGTERM', async () => {
    const atlasServer = await startAtlas();
    const atlas = atlasClient(atlasServer.base);
    const users = await upstream('u1');
    await register(atlas, 'userstore', 'u1', users.port);
    const env = await sidecarEnv(atlasServer.base);
    const listen = env.SMART_SIDECAR__LISTEN;
    const httpPort = await freePort();
    const bin = fileURLToPath(new URL('../bin/smart-sidecar.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [bin, '--atlas', atlasServer.base, '--realm', 'local', '--listen', listen, '--dir', env.SMART_SIDECAR__DIR],
      {
        env: {
          ...process.env,
          SMART_HTTP__PORT: String(httpPort),
          SMART_SIDECAR__STATS_PORT: '0',
          SMART_SIDECAR__HAPROXY_BIN: env.SMART_SIDECAR__HAPROXY_BIN,
          SMART_SHUTDOWN__DRAIN_DELAY_MS: '0',
          SMART_LOG__LEVEL: 'warn',
        },
        stdio: 'ignore',
      },
    );
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    // Ready (its signal handlers installed once it listens), and routing.
    await within(
      15_000,
      async () => (await fetch(`http://127.0.0.1:${httpPort}/health/ready`).catch(() => undefined))?.status === 200,
    );
    expect(await reached(Number(listen), 'userstore', 1)).toEqual(new Set(['u1']));
    child.kill('SIGTERM');
    // The graceful shutdown ends as smart services do (close-with-grace: the signal's own exit).
    const [code, signal] = await once(child, 'exit');
    expect([0, 'SIGTERM']).toContain(code ?? signal);
    await expect(fetch(`http://127.0.0.1:${listen}/`)).rejects.toThrow();
  });
});
