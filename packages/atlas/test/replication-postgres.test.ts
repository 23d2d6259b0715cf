import { describe, expect, it, onTestFinished } from 'vitest';
import { freshDatabase } from './helper.ts';
import { type AtlasProcess, startAtlasProcess } from './support/atlas-process.ts';
import { runFailoverScenario } from './support/failover-scenario.ts';

describe('replicated Atlas on one Postgres', () => {
  it('loses no registration and no change when one of two Atlas processes is killed', async () => {
    const env = { SMART_DB__URL: await freshDatabase() };
    const atlases: AtlasProcess[] = [];
    onTestFinished(() => Promise.all(atlases.map((a) => a.stop())).then(() => {}));
    // One after the other: the first applies the migrations.
    atlases.push(await startAtlasProcess(env));
    atlases.push(await startAtlasProcess(env));
    const figures = await runFailoverScenario({ atlases: [atlases[0] as AtlasProcess, atlases[1] as AtlasProcess] });
    console.log('Postgres failover figures:', JSON.stringify(figures));
    expect(figures.instances).toBe(200);
    expect(figures.registrationsLost).toBe(0);
    expect(figures.wronglyExpired).toBe(0);
    expect(figures.watchersOutOfSequence).toBe(0);
    expect(figures.watchFailoverMs).toBeLessThan(2_000);
    expect(figures.heartbeatFailoverMs).toBeLessThan(2_000);
  }, 120_000);
});
