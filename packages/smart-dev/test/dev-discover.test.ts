import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverServices } from '../src/index.ts';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'smart-dev-discover-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

// What create-smart-service writes (and installs), in a folder whose name is not the service's.
const generated = (dir: string, name: string) => ({
  [`${dir}/package.json`]: JSON.stringify({ name, scripts: { dev: 'smart dev' } }),
  [`${dir}/src/server.ts`]: '',
  [`${dir}/src/routes/index.ts`]: '',
  [`${dir}/test/app.test.ts`]: '',
  [`${dir}/migrations/0001_create_greetings.ts`]: '',
  [`${dir}/k8s/deployment.yaml`]: '',
  [`${dir}/.smart/atlas-dev/PG_VERSION`]: '',
  // An installed dependency that looks like a service is not one of the folder's.
  [`${dir}/node_modules/smart-atlas/package.json`]: '{"name":"smart-atlas"}',
  [`${dir}/node_modules/smart-atlas/src/server.ts`]: '',
});

describe('smart dev in a folder that is one service', () => {
  it('runs that service alone, named after its package (what it registers in Atlas as), not its folder', async () => {
    const root = await tree(generated('orders-main', '@shop/orders'));
    expect(await discoverServices(join(root, 'orders-main'))).toEqual([
      { name: 'orders', dir: join(root, 'orders-main'), entry: 'src/server.ts', env: {} },
    ]);
  });

  it('falls back to the folder name when the package has no name Atlas accepts', async () => {
    const root = await tree({ ...generated('billing', 'Billing_Service') });
    expect((await discoverServices(join(root, 'billing'))).map((s) => s.name)).toEqual(['billing']);
  });

  it('still names the services of a folder of services after their folders', async () => {
    const root = await tree({ ...generated('orders', '@shop/orders-api'), ...generated('users', 'users') });
    expect((await discoverServices(root)).map((s) => [s.name, s.dir])).toEqual([
      ['orders', join(root, 'orders')],
      ['users', join(root, 'users')],
    ]);
  });
});
