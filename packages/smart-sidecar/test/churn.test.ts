import { describe, expect, it } from 'vitest';
import { atlasClient, register, startAtlas, startSidecar, through, type Upstream, upstream } from './helper.ts';

const RUN_MS = 20_000;
const TICK_MS = 500;
const CONCURRENCY = 50;

describe('churn under load', () => {
  it(
    'fails no call of 50 concurrent callers for 20 s while an instance is added, drained and removed every 500 ms',
    async () => {
      const atlasServer = await startAtlas();
      const atlas = atlasClient(atlasServer.base);
      for (const id of ['stable-1', 'stable-2', 'stable-3'])
        await register(atlas, 'catalog', id, (await upstream(id)).port);
      const { sidecar, port } = await startSidecar(atlas, { slots: 16 });
      const pid = sidecar.workerPid;

      const failures: string[] = [];
      let calls = 0;
      const until = Date.now() + RUN_MS;
      const caller = async () => {
        while (Date.now() < until) {
          try {
            const res = await through(port, 'catalog', '/items');
            if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
          calls++;
        }
      };

      // Each tick: a new instance comes, the one of two ticks ago is drained,
      // the one of four ticks ago deregistered, and the one of six ticks ago
      // stops (as a service does after deregistering and its drain delay).
      const churn: Upstream[] = [];
      let tick = 0;
      const churner = async () => {
        while (Date.now() < until - TICK_MS) {
          const started = Date.now();
          const added = await upstream(`churn-${tick}`);
          churn.push(added);
          await register(atlas, 'catalog', added.id, added.port);
          const drained = churn[tick - 2];
          if (drained) await atlas.setDisabled('catalog', drained.id, true);
          const removed = churn[tick - 4];
          if (removed) await atlas.deregister('catalog', removed.id);
          await churn[tick - 6]?.close();
          tick++;
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, TICK_MS - (Date.now() - started))));
        }
      };

      await Promise.all([churner(), ...Array.from({ length: CONCURRENCY }, caller)]);
      expect(failures.slice(0, 5)).toEqual([]);
      expect(failures).toHaveLength(0);
      expect(tick).toBeGreaterThanOrEqual(30);
      expect(calls).toBeGreaterThan(1_000);
      // New instances got traffic without a reload.
      expect(churn.filter((u) => u.hits > 0).length).toBeGreaterThan(tick / 2);
      expect(sidecar.workerPid).toBe(pid);
      expect(sidecar.counts.reloads).toBe(0);
      console.log(`churn: ${calls} calls, ${tick} ticks, ${sidecar.counts.runtimeChanges} runtime changes, 0 reloads`);
    },
    RUN_MS + 40_000,
  );
});
