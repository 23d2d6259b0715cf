import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type AtlasProcess, startAtlasProcess } from './support/atlas-process.ts';
import { type EtcdCluster, startEtcdCluster } from './support/etcd-cluster.ts';
import { runFailoverScenario } from './support/failover-scenario.ts';

let cluster: EtcdCluster;
beforeAll(async () => {
  cluster = await startEtcdCluster(3);
}, 60_000);
afterAll(() => cluster?.stop());

// The member that leads: killing it costs an election, the harder case.
async function leaderIndex(): Promise<number> {
  for (const [index, url] of cluster.endpoints.entries()) {
    const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}' });
    const status = (await res.json()) as { header: { member_id: string }; leader: string };
    if (status.header.member_id === status.leader) return index;
  }
  return 0;
}

describe('replicated Atlas on a three-member etcd cluster', () => {
  it('loses no registration and no change while an etcd member and then an Atlas process are killed', async () => {
    const env = {
      SMART_ATLAS__STORE: 'etcd',
      SMART_ATLAS__ETCD__ENDPOINTS: cluster.endpoints.join(','),
      SMART_ATLAS__ETCD__PREFIX: '/atlas-replication/',
      SMART_ATLAS__ETCD__TIMEOUT_MS: '1500',
    };
    const atlases: AtlasProcess[] = [];
    onTestFinished(() => Promise.all(atlases.map((a) => a.stop())).then(() => {}));
    atlases.push(await startAtlasProcess(env), await startAtlasProcess(env));
    let killedMember = -1;
    const figures = await runFailoverScenario({
      atlases: [atlases[0] as AtlasProcess, atlases[1] as AtlasProcess],
      storeFault: async () => {
        killedMember = await leaderIndex();
        await cluster.kill(killedMember);
      },
    });
    console.log(`etcd failover figures (killed member m${killedMember}, the leader):`, JSON.stringify(figures));
    expect(figures.instances).toBe(200);
    expect(figures.registrationsLost).toBe(0);
    expect(figures.wronglyExpired).toBe(0);
    expect(figures.watchersOutOfSequence).toBe(0);
    expect(figures.watchFailoverMs).toBeLessThan(2_000);
    expect(figures.heartbeatFailoverMs).toBeLessThan(2_000);
  }, 120_000);
});
