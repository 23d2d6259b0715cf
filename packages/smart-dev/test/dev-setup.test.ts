import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedAtlas, findAtlasBin } from '../src/atlas-process.ts';
import { workspacePatterns } from '../src/discover.ts';
import { devErrorCodes, discoverServices, startDev } from '../src/index.ts';
import { formatLine } from '../src/log-format.ts';
import { isIgnored, watchTree } from '../src/watch-tree.ts';
import { eventually } from './helper.ts';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../smart-service/bin/smart.ts');
const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A temp folder with these files (path -> content). */
async function folder(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'smart-dev-setup-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const service = (dir: string) => ({ [`${dir}/package.json`]: '{}', [`${dir}/src/server.ts`]: '' });

describe('smart dev finds the services of a folder', () => {
  it('takes every subfolder with package.json and src/server.ts, named after the folder', async () => {
    const root = await folder({
      ...service('orders'),
      ...service('users'),
      'docs/README.md': '',
      'lib/package.json': '{}',
    });
    const found = await discoverServices(root);
    expect(found.map((s) => [s.name, s.dir, s.entry])).toEqual([
      ['orders', join(root, 'orders'), 'src/server.ts'],
      ['users', join(root, 'users'), 'src/server.ts'],
    ]);
  });

  it('takes the packages of a pnpm workspace, and a single service in its own folder', async () => {
    const yaml =
      "packages:\n  - 'services/*'\n  - \"tools/gen\"  # a comment\n  - '!services/legacy'\nallowBuilds: {}\n";
    expect(workspacePatterns(yaml)).toEqual(['services/*', 'tools/gen', '!services/legacy']);
    const root = await folder({
      'pnpm-workspace.yaml': yaml,
      ...service('services/orders'),
      ...service('services/legacy'),
      ...service('tools/gen'),
    });
    expect((await discoverServices(root)).map((s) => s.name)).toEqual(['gen', 'orders']);
    const single = await folder(service('my-service'));
    expect(await discoverServices(join(single, 'my-service'))).toEqual([
      { name: 'my-service', dir: join(single, 'my-service'), entry: 'src/server.ts', env: {} },
    ]);
  });

  it('follows smart-dev.json, short and long form, over the folders', async () => {
    const root = await folder({
      ...service('orders'),
      'svc/pay/main.ts': '',
      'smart-dev.json': JSON.stringify({
        services: {
          orders: 'orders',
          payments: { dir: 'svc/pay', entry: 'main.ts', env: { SMART_LOG__LEVEL: 'warn' } },
        },
      }),
    });
    expect(await discoverServices(root)).toEqual([
      { name: 'orders', dir: join(root, 'orders'), entry: 'src/server.ts', env: {} },
      { name: 'payments', dir: join(root, 'svc/pay'), entry: 'main.ts', env: { SMART_LOG__LEVEL: 'warn' } },
    ]);
    expect((await discoverServices(root, ['payments'])).map((s) => s.name)).toEqual(['payments']);
  });

  it('says clearly what is wrong with a folder, a manifest or a service list', async () => {
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [async () => discoverServices(await folder({ 'README.md': '' })), devErrorCodes.noServices, /smart-dev\.json/],
      [
        async () => discoverServices(await folder({ 'smart-dev.json': '{ nope' })),
        devErrorCodes.badManifest,
        /not valid JSON/,
      ],
      [
        async () => discoverServices(await folder({ 'smart-dev.json': '{"services":{"Bad_Name":"x"}}' })),
        devErrorCodes.badManifest,
        /kebab-case/,
      ],
      [
        async () => discoverServices(await folder({ 'smart-dev.json': '{"services":{"orders":"missing"}}' })),
        devErrorCodes.badManifest,
        /orders: missing is not a folder/,
      ],
      [
        async () => discoverServices(await folder({ ...service('orders') }), ['orders', 'nope']),
        devErrorCodes.unknownService,
        /no service named nope .*there are: orders/,
      ],
      [async () => discoverServices('/definitely/not/here'), devErrorCodes.invalidOption, /not a folder/],
      [async () => startDev({ root: '.', atlasPort: 70_000 }), devErrorCodes.invalidOption, /atlasPort/],
    ];
    for (const [run, code, message] of cases) {
      await expect(run()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    }
  });

  it('`smart dev` says how to install smart-dev when it is not installed (and exits 1)', async () => {
    const root = await folder({ ...service('orders'), 'package.json': '{}' });
    const env = { ...process.env };
    delete env.NODE_PATH; // pnpm's, under which every workspace package resolves from anywhere
    const failed = await run(process.execPath, [BIN, 'dev', root], { env, cwd: root }).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('`smart dev` is in the smart-dev package, which is not installed here');
    expect(failed?.stderr).toContain('pnpm add -D smart-dev');
  });

  it('finds smart-atlas next to itself: a folder needs only smart-dev installed', async () => {
    expect(findAtlasBin(await folder({ 'package.json': '{}' }))).toMatch(/atlas[/\\]bin[/\\]smart-atlas\.ts$/);
  });

  it("fails with Atlas's own words when its port is taken, and leaves nothing running", async () => {
    const root = await folder({ ...service('orders') });
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const atlasPackage = join(import.meta.dirname, '../../atlas');
      await expect(startDev({ root, output: false, atlasPort: port, atlasPackage })).rejects.toMatchObject({
        code: devErrorCodes.atlasFailed,
        message: expect.stringMatching(/exited \(exit code 1\) before listening[\s\S]*EADDRINUSE/),
      });
      expect(Date.now() - started).toBeLessThan(30_000); // not the 60 s start timeout
      // Its lock is given back: the folder can be used again.
      expect(existsSync(join(root, '.smart/atlas-dev.lock'))).toBe(false);
    } finally {
      taken.close();
    }
  }, 40_000);
});

describe('the embedded Atlas', () => {
  // A stand-in for smart-atlas: too slow to start (avvio's plugin timeout) for its first `slow` starts, then it listens.
  const fakeAtlas = (slow: number) =>
    folder({
      'package.json': JSON.stringify({ name: 'smart-atlas', bin: { 'smart-atlas': 'bin.mjs' } }),
      'bin.mjs': `
        import { appendFileSync, existsSync, readFileSync } from 'node:fs';
        import { createServer } from 'node:http';
        const starts = existsSync('starts') ? readFileSync('starts', 'utf8').length : 0;
        appendFileSync('starts', 'x');
        if (starts < ${slow}) {
          console.error("smart-atlas: AVV_ERR_PLUGIN_EXEC_TIMEOUT: Plugin did not start in time: 'smart-db'");
          process.exit(1);
        }
        const server = createServer((req, res) => res.end('{}'));
        server.listen(Number(process.env.SMART_HTTP__PORT), '127.0.0.1', () =>
          console.log(JSON.stringify({ level: 30, msg: 'Server listening at http://127.0.0.1:' + server.address().port })));
        process.on('SIGTERM', () => server.close(() => process.exit(0)));
      `,
    });
  const atlasIn = async (dir: string) =>
    new EmbeddedAtlas({
      root: dir,
      bin: findAtlasBin(dir, dir),
      port: 0,
      dataDir: join(dir, 'data'),
      backoff: { initialMs: 50, maxMs: 100, resetAfterMs: 10_000 },
      stopTimeoutMs: 2_000,
    });

  it('is started again when it was too slow to start (a loaded machine), and then listens', async () => {
    const dir = await fakeAtlas(2);
    const atlas = await atlasIn(dir);
    try {
      const url = await atlas.start((why) => new Error(why));
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${url}/`)).text()).toBe('{}');
    } finally {
      await atlas.stop();
    }
  });

  it('gives up after three slow starts, with the reason', async () => {
    const dir = await fakeAtlas(10);
    const atlas = await atlasIn(dir);
    await expect(atlas.start((why) => new Error(why))).rejects.toThrow(/exited \(exit code 1\) before listening/);
    await atlas.stop();
  });
});

describe('smart dev lines', () => {
  const plain = { width: 6, colour: false };

  it('show service, time, level, message, the access fields and the request id', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();
    const access = JSON.stringify({
      level: 30,
      time,
      service: 'orders',
      realm: 'local',
      version: '1.0.0',
      requestId: 'req-7',
      method: 'GET',
      route: '/orders/:id',
      path: '/orders/42',
      status: 404,
      durationMs: 1.25,
      msg: 'request completed',
    });
    expect(formatLine('orders', 'cyan', access, plain)).toBe(
      'orders │ 03:04:05.006 INFO  request completed GET /orders/42 404 1.25 ms [req-7]',
    );
    const custom = JSON.stringify({ level: 40, time, msg: 'slow', ms: 900, user: { id: 1 } });
    expect(formatLine('users', 'cyan', custom, plain)).toBe('users  │ 03:04:05.006 WARN  slow ms=900 user={"id":1}');
    // Another logger's labels instead of pino's numbers.
    const labelled = JSON.stringify({ level: 'error', time, msg: 'down', reqId: 'r-9' });
    expect(formatLine('users', 'cyan', labelled, plain)).toBe('users  │ 03:04:05.006 ERROR down [r-9]');
  });

  it('show an error with its stack, and any other text as it came', () => {
    const err = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'boom',
      err: {
        type: 'TypeError',
        message: 'x is undefined',
        stack: 'TypeError: x is undefined\n    at handler (a.ts:3:1)',
      },
    });
    expect(formatLine('orders', 'cyan', err, plain).split('\n')).toEqual([
      expect.stringMatching(/^orders │ \S+ ERROR boom TypeError: x is undefined$/),
      'orders │     at handler (a.ts:3:1)',
    ]);
    expect(formatLine('orders', 'cyan', 'SyntaxError: Unexpected identifier', plain)).toBe(
      'orders │ SyntaxError: Unexpected identifier',
    );
    expect(formatLine('orders', 'cyan', '{"level":30,"msg":"hi"}', { width: 6, colour: true })).toContain('\u001b[');
  });

  it('ignore changes nobody needs a restart for', () => {
    for (const path of [
      'node_modules/x/index.js',
      '.git/HEAD',
      '.smart/pglite/1',
      'dist/a.js',
      'src/.a.ts.swp',
      'src/4913',
      'a.ts~',
    ]) {
      expect(isIgnored(path)).toBe(true);
    }
    for (const path of ['src/server.ts', 'package.json', 'migrations/0001_init.ts', '.env'])
      expect(isIgnored(path)).toBe(false);
  });

  it('still sees changes in a folder that was deleted and made again (a branch switch)', async () => {
    const root = await folder({ 'src/server.ts': '' });
    const changed: string[] = [];
    const watcher = watchTree(root, (file) => changed.push(file));
    try {
      await rm(join(root, 'src'), { recursive: true });
      await mkdir(join(root, 'src'));
      await eventually(() => changed.includes('src'), 5_000);
      changed.length = 0;
      await writeFile(join(root, 'src/server.ts'), 'export {};');
      await eventually(() => changed.includes(join('src', 'server.ts')), 5_000);
    } finally {
      watcher.close();
    }
  });
});
