import { setTimeout as sleep } from 'node:timers/promises';
import { type AtlasClient, createAtlasClient, type Watch } from 'atlas-client';
import { ADMIN_TOKEN } from '../helper.ts';
import type { AtlasProcess } from './atlas-process.ts';

/** What a run of the failover scenario measured. */
export interface FailoverFigures {
  readonly instances: number;
  readonly heartbeats: number;
  readonly failedHeartbeats: number;
  /** Instances missing from Atlas at the end, though they heartbeated all along. */
  readonly registrationsLost: number;
  /** Times a watcher saw a heartbeating instance vanish from its service's list. */
  readonly wronglyExpired: number;
  readonly configWrites: number;
  /** Config watchers whose distinct values were not exactly the written sequence. */
  readonly watchersOutOfSequence: number;
  /**
   * After the Atlas kill: the longest a heartbeat took to succeed (from the
   * kill or its own start), and the slowest watcher to see the next write.
   */
  readonly heartbeatFailoverMs: number;
  readonly watchFailoverMs: number;
}

export interface ScenarioOptions {
  readonly atlases: readonly [AtlasProcess, AtlasProcess];
  readonly services?: number;
  readonly perService?: number;
  readonly configWatchers?: number;
  /** Run while the fleet heartbeats, before the Atlas kill (e.g. kill an etcd member). */
  readonly storeFault?: () => Promise<void>;
}

const REALM = 'testing';

/**
 * 200 instances (10 services x 20) registering and heartbeating (TTL 5 s,
 * every second) through two Atlas processes on one store, instance watchers
 * per service, config watchers on one key written every 600 ms; a store
 * fault after 3 s, then the first Atlas killed (SIGKILL) after 8 s; then
 * counts what was lost.
 */
export async function runFailoverScenario(options: ScenarioOptions): Promise<FailoverFigures> {
  const [first, second] = options.atlases;
  const urls = [first.base, second.base];
  const services = Array.from({ length: options.services ?? 10 }, (_, i) => `fleet${i}`);
  const perService = options.perService ?? 20;
  const clients: AtlasClient[] = [];
  const watches: Watch[] = [];
  const client = () => {
    const c = createAtlasClient({
      url: urls,
      token: ADMIN_TOKEN,
      waitMs: 5_000,
      timeoutMs: 1_500,
      timing: { minIntervalMs: 0, backoffBaseMs: 50, backoffMaxMs: 500 },
    });
    clients.push(c);
    return c;
  };

  let heartbeats = 0;
  let failedHeartbeats = 0;
  let killedAt = 0;
  const firstBeatAfterKill = new Map<string, number>();
  const stopBeating = new AbortController();
  const beaters: Promise<void>[] = [];
  const ids: { service: string; id: string }[] = [];
  for (const service of services) {
    for (let n = 0; n < perService; n++) {
      const id = `${service}-${n}`;
      ids.push({ service, id });
      const c = client();
      const port = 20_000 + ids.length;
      beaters.push(
        (async () => {
          await sleep(Math.random() * 1_000);
          while (!stopBeating.signal.aborted) {
            const attempt = Date.now();
            try {
              await c.register({ service, id, realm: REALM, host: '127.0.0.1', port, ttlSeconds: 10 });
              heartbeats++;
              // From the kill (or this heartbeat's start, if later) to its success: how long the failover cost it.
              if (killedAt && !firstBeatAfterKill.has(id)) {
                firstBeatAfterKill.set(id, Date.now() - Math.max(attempt, killedAt));
              }
            } catch {
              failedHeartbeats++;
            }
            await sleep(900 + Math.random() * 200, undefined, { signal: stopBeating.signal }).catch(() => {});
          }
        })(),
      );
    }
  }

  // Instance watchers: once an instance shows up, it must stay (it heartbeats throughout,
  // every second against a 10 s TTL: a heartbeat at a tenth of the TTL leaves room for
  // this test process itself being starved on a loaded machine, which is not Atlas's doing).
  let wronglyExpired = 0;
  for (const service of services) {
    const seen = new Set<string>();
    watches.push(
      client().watchInstances(service, REALM, (list) => {
        const now = new Set(list.map((i) => i.id));
        for (const id of seen) if (!now.has(id)) wronglyExpired++;
        for (const id of now) seen.add(id);
      }),
    );
  }

  // Config watchers: each must see every value written, in order.
  const admin = client();
  await admin.setConfig('fleet', REALM, 'seq', 0);
  const observed: number[][] = [];
  for (let w = 0; w < (options.configWatchers ?? 20); w++) {
    const values: number[] = [];
    observed.push(values);
    watches.push(
      client().watchConfig('fleet', REALM, (config) => {
        const seq = config.values.seq as number;
        if (values.at(-1) !== seq) values.push(seq);
      }),
    );
  }
  while (!observed.every((values) => values.length > 0)) await sleep(20);
  let seq = 0;
  let watchFailoverMs = 0;
  const write = async () => {
    seq++;
    await admin.setConfig('fleet', REALM, 'seq', seq);
    return seq;
  };
  const allSee = async (value: number, since: number) => {
    while (!observed.every((values) => values.includes(value))) {
      if (Date.now() - since > 10_000) return Number.POSITIVE_INFINITY;
      await sleep(10);
    }
    return Date.now() - since;
  };

  const started = Date.now();
  // A watch is a blocking query, which answers with the current state: two
  // writes between a watcher's polls would show it only the second, as Consul's
  // do. So each write waits until every watcher has seen the one before (up to
  // 10 s): a watcher that lost its watch never sees it and is counted.
  const writeUntil = async (at: number) => {
    while (Date.now() - started < at) {
      await allSee(await write(), Date.now());
      await sleep(200);
    }
  };
  await writeUntil(3_000);
  await options.storeFault?.();
  await writeUntil(8_000);
  killedAt = Date.now();
  await first.kill();
  const afterKill = await write();
  watchFailoverMs = await allSee(afterKill, killedAt);
  await writeUntil(14_000);
  await allSee(seq, Date.now());

  // Settle: every instance heartbeats at least once more, then count.
  await sleep(1_500);
  let registrationsLost = 0;
  for (const service of services) {
    const live = new Set((await admin.instances(service, REALM)).data.map((i) => i.id));
    registrationsLost += ids.filter((i) => i.service === service && !live.has(i.id)).length;
  }
  stopBeating.abort();
  await Promise.all(beaters);
  await Promise.all(watches.map((w) => w.stop()));
  await Promise.all(clients.map((c) => c.close()));

  const expected = Array.from({ length: seq + 1 }, (_, i) => i);
  const watchersOutOfSequence = observed.filter(
    (values) => values.length !== expected.length || values.some((v, i) => v !== expected[i]),
  ).length;
  return {
    instances: ids.length,
    heartbeats,
    failedHeartbeats,
    registrationsLost,
    wronglyExpired,
    configWrites: seq,
    watchersOutOfSequence,
    heartbeatFailoverMs: Math.max(0, ...firstBeatAfterKill.values()),
    watchFailoverMs,
  };
}
