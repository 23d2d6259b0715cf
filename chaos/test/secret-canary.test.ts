import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { report } from '../lib/figures.ts';
import { freshDatabase, privateRedis } from '../lib/servers.ts';
import { startService } from '../lib/service-process.ts';

const CANARY = 'canary-7f3a9c1e5b';

describe('a secret canary', () => {
  it('appears in no output: logs, readiness, error bodies, metrics (config secret, db password, headers, query, body)', async () => {
    const redis = privateRedis();
    const db = new URL(await freshDatabase());
    db.password = CANARY; // trust auth ignores it; a leak would show
    const service = await startService({
      CHAOS_NAME: 'chaos-canary',
      SMART_LOG__LEVEL: 'debug',
      SMART_CANARY: CANARY,
      SMART_DB__URL: db.toString(),
      SMART_REDIS__URL: redis.url,
      SMART_BUGSNAG__API_KEY: `${CANARY}0123456789abcdef0123456`,
      SMART_BUGSNAG__NOTIFY_ENDPOINT: 'http://127.0.0.1:9/notify',
    });
    const bodies: string[] = [];
    const send = async (
      path: string,
      init: { method?: string; body?: string; headers?: Record<string, string> } = {},
    ) => {
      const res = await request(`${service.base}${path}`, {
        method: (init.method ?? 'GET') as 'GET',
        body: init.body,
        headers: {
          authorization: `Bearer ${CANARY}`,
          cookie: `session=${CANARY}`,
          'x-auth-token': CANARY,
          'x-api-key': CANARY,
          ...init.headers,
        },
      });
      bodies.push(JSON.stringify(res.headers), await res.body.text());
      return res.statusCode;
    };
    const statuses = [
      await send(`/fast?token=${CANARY}&password=${CANARY}`),
      await send(`/nothing?api_key=${CANARY}`),
      await send('/fast', { method: 'POST' }),
      await send('/echo', {
        method: 'POST',
        body: `{"password":"${CANARY}"`,
        headers: { 'content-type': 'application/json' },
      }),
      await send('/echo', { method: 'POST', body: `${CANARY}`, headers: { 'content-type': 'application/json' } }),
      await send('/echo', { method: 'POST', body: `{"secret":"${CANARY}"}`, headers: { 'content-type': 'text/yaml' } }),
      await send(`/%ZZ?token=${CANARY}`),
      await send('/health/ready'),
      await send('/metrics'),
      await send('/db'),
      await send('/redis'),
    ];
    await redis.kill();
    await send('/redis');
    await send('/health/ready');
    await new Promise((resolve) => setTimeout(resolve, 300));
    service.child.kill('SIGTERM');
    await service.exited;
    const outputs = { logs: service.output(), answers: bodies.join('\n') };
    const hits = Object.entries(outputs).filter(([, text]) => text.includes(CANARY));
    report('secret-canary', {
      requests: statuses.length + 2,
      logLines: service.lines.length,
      answerBytes: outputs.answers.length,
      hits: hits.length,
      where: hits.map(([name]) => name).join(',') || 'none',
    });
    for (const [name, text] of hits) {
      const at = text.indexOf(CANARY);
      expect.soft(`${name}: ...${text.slice(Math.max(0, at - 200), at + 40)}`).toBe('');
    }
    expect(hits).toEqual([]);
  });
});
