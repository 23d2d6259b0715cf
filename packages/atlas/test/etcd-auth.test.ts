import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call } from './helper.ts';
import { type AtlasProcess, startAtlasProcess } from './support/atlas-process.ts';
import { type EtcdCluster, startEtcdCluster } from './support/etcd-cluster.ts';

// A member of its own: turning auth on would lock the suite's shared member.
let cluster: EtcdCluster;
beforeAll(async () => {
  cluster = await startEtcdCluster(1);
  const client = new Etcd3({ hosts: cluster.endpoints });
  await client.role('root').create();
  await client.user('root').create('etcd-root-password');
  await client.user('root').addRole('root');
  await client.auth.authEnable();
  client.close();
}, 60_000);
afterAll(() => cluster?.stop());

describe('Atlas on an etcd cluster with authentication', () => {
  it('signs in with atlas.etcd.username and the secret atlas.etcd.password, and keeps secrets sealed in etcd', async () => {
    let atlas: AtlasProcess | undefined;
    try {
      atlas = await startAtlasProcess({
        SMART_ATLAS__STORE: 'etcd',
        SMART_ATLAS__ETCD__ENDPOINTS: cluster.endpoints.join(','),
        SMART_ATLAS__ETCD__USERNAME: 'root',
        SMART_ATLAS__ETCD__PASSWORD: 'etcd-root-password',
      });
      const admin = { token: ADMIN_TOKEN };
      const put = await call(atlas.base, 'PUT', '/v1/config/orders/testing/apiKey', {
        ...admin,
        body: { value: 'orders-secret-value', secret: true },
      });
      expect(put.status).toBe(204);
      const read = await call(atlas.base, 'GET', '/v1/config/orders/testing', admin);
      expect(read.body.values.apiKey).toBe('orders-secret-value');
    } finally {
      await atlas?.stop();
    }
    // What etcd holds: the ciphertext, never the value.
    const client = new Etcd3({ hosts: cluster.endpoints, auth: { username: 'root', password: 'etcd-root-password' } });
    const stored = await client.getAll().prefix('/atlas/c/').strings();
    client.close();
    expect(Object.keys(stored)).toEqual(['/atlas/c/testing/orders/apiKey']);
    expect(JSON.stringify(stored)).not.toContain('orders-secret-value');
  });

  it('does not start without the password', async () => {
    await expect(
      startAtlasProcess({
        SMART_ATLAS__STORE: 'etcd',
        SMART_ATLAS__ETCD__ENDPOINTS: cluster.endpoints.join(','),
        SMART_ATLAS__ETCD__TIMEOUT_MS: '1000',
      }),
    ).rejects.toThrow(/did not start[\s\S]*(permission|auth|user)/i);
  });
});
