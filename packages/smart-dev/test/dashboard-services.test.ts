// The dashboard's Services answer (what its Services panel shows), from a
// session's services and their Atlas instances, without a browser.
import { EventEmitter } from 'node:events';
import type { Instance } from 'atlas-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dashboard, type DashboardSource, startDashboard } from '../src/index.ts';
import type { DevLogLine } from '../src/types.ts';

const instance = (service: string, id: string, version: string, apiHash?: string): Instance => ({
  service,
  id,
  realm: 'local',
  host: '127.0.0.1',
  port: 1,
  url: 'http://127.0.0.1:1',
  version,
  metadata: { pid: 1, ...(apiHash ? { apiHash } : {}) },
  registeredAt: Date.now(),
  expiresAt: Date.now() + 15_000,
});

const service = (name: string, instances: Instance[]) => ({
  name,
  dir: `/tmp/${name}`,
  url: 'http://127.0.0.1:1',
  pid: 1,
  state: 'running',
  restarts: 0,
  startedAt: Date.now(),
  instances,
});

class FakeSession extends EventEmitter {
  readonly services = new Map([
    ['userstore', service('userstore', [instance('userstore', 'u1', '1.0.0', 'aaaaaaaaaaaaaaaa')])],
    [
      'pricing',
      service('pricing', [
        instance('pricing', 'p1', '0.1.0', '1111111111111111'),
        instance('pricing', 'p2', '0.2.0', '2222222222222222'),
        instance('pricing', 'p3', '0.1.0', '1111111111111111'),
      ]),
    ],
    [
      'fizz',
      service('fizz', [
        instance('fizz', 'f1', '1.0.0', 'bbbbbbbbbbbbbbbb'),
        instance('fizz', 'f2', '1.0.0', 'cccccccccccccccc'),
      ]),
    ],
  ]);
  readonly atlasUrl = 'http://127.0.0.1:1';
  atlasClient() {
    return undefined;
  }
  logs(): DevLogLine[] {
    return [];
  }
}

let dashboard: Dashboard;

beforeAll(async () => {
  dashboard = await startDashboard({ source: new FakeSession() as unknown as DashboardSource, port: 0 });
});
afterAll(async () => {
  await dashboard?.close();
});

interface ServicesAnswer {
  services: {
    name: string;
    versions: { version: string; apiHash?: string; instances: number }[];
    versionsText: string;
    disagree: boolean;
    instances: { id: string; version: string; metadata: { apiHash?: string } }[];
  }[];
}

describe('the dashboard Services panel', () => {
  it('shows the versions and API hashes of each service live, and flags a service whose instances disagree', async () => {
    const answer = (await (await fetch(`${dashboard.url}/api/services`)).json()) as ServicesAnswer;
    const byName = new Map(answer.services.map((s) => [s.name, s]));

    expect(byName.get('userstore')).toMatchObject({
      versions: [{ version: '1.0.0', apiHash: 'aaaaaaaaaaaaaaaa', instances: 1 }],
      versionsText: '1.0.0',
      disagree: false,
      instances: [{ id: 'u1', version: '1.0.0', metadata: { apiHash: 'aaaaaaaaaaaaaaaa' } }],
    });
    // A rollout under way: two versions live.
    expect(byName.get('pricing')).toMatchObject({
      versions: [
        { version: '0.1.0', apiHash: '1111111111111111', instances: 2 },
        { version: '0.2.0', apiHash: '2222222222222222', instances: 1 },
      ],
      versionsText: '0.1.0, 0.2.0 (2 versions live)',
      disagree: true,
    });
    // One version number, two different APIs: flagged too.
    expect(byName.get('fizz')).toMatchObject({ versionsText: '1.0.0 (2 API documents live)', disagree: true });
  });
});
