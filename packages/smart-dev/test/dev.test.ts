import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevExit, type DevService, type DevSession, devErrorCodes, startDev } from '../src/index.ts';
import { eventually } from './helper.ts';

const PACKAGE = resolve(import.meta.dirname, '..');
const ATLAS = resolve(PACKAGE, '../atlas');
const SERVICE = resolve(PACKAGE, '../smart-service');
// smart-service's `smart`, which hands `dev` to the smart-dev installed in the folder.
const BIN = join(SERVICE, 'bin/smart.ts');
const roots: string[] = [];

/**
 * A folder of services as a user has it: the fixture's two services, each
 * with its package.json, and node_modules/smart-service, smart-atlas and
 * smart-dev linked to the workspace packages.
 */
async function servicesFolder(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'smart-dev-'));
  roots.push(root);
  await cp(join(import.meta.dirname, 'fixtures/dev-basic'), root, { recursive: true });
  for (const name of ['alpha', 'beta']) {
    await writeFile(join(root, name, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  }
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'shop', private: true, type: 'module' }));
  await mkdir(join(root, 'node_modules'));
  await symlink(SERVICE, join(root, 'node_modules/smart-service'));
  await symlink(ATLAS, join(root, 'node_modules/smart-atlas'));
  await symlink(PACKAGE, join(root, 'node_modules/smart-dev'));
  return root;
}

afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** Alive, and not a zombie waiting for a parent that does not reap (PID 1 in a container may not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The fields after the command name: state, then ppid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) found.push(Number(entry));
  }
  return found;
}

async function getJson(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const clis: ChildProcess[] = [];
afterAll(() => {
  for (const cli of clis) if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
});

/**
 * The `smart dev` command run as a user would, its output collected. With
 * `group`, in a process group of its own, as a shell runs a foreground job.
 */
function runCli(root: string, group = false): { child: ChildProcess; output: () => string } {
  let text = '';
  const child = spawn(process.execPath, [BIN, 'dev', root, '--atlas-port', '0', '--dashboard-port', '0'], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  clis.push(child);
  child.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    text += chunk;
  });
  return { child, output: () => text };
}

describe('startDev', () => {
  let root: string;
  let dev: DevSession;
  let printed = '';
  const exits: [string, DevExit][] = [];
  const alpha = () => dev.services.get('alpha') as DevService;
  const beta = () => dev.services.get('beta') as DevService;

  /**
   * What alpha answered beta's `service://alpha` call. Right after a
   * restart, beta learns of the new instance through its own Atlas watch a
   * moment after smart dev does (its reads are at least 100 ms apart): until
   * then it answers 503 SMART_CLIENT_NO_INSTANCES.
   */
  async function relayed(): Promise<unknown> {
    let last: Awaited<ReturnType<typeof getJson>> | undefined;
    await eventually(async () => {
      last = await getJson(`${beta().url}/relay`);
      return last.status === 200;
    }, 3_000).catch(() => {});
    return last?.body.alpha ?? last?.body;
  }

  beforeAll(async () => {
    root = await servicesFolder();
    const output = new Writable({
      write(chunk, _encoding, done) {
        printed += chunk;
        done();
      },
    });
    dev = await startDev({ root, output, env: { SMART_LOG__LEVEL: 'info' } });
    dev.on('exit', (service: DevService, exit: DevExit) => exits.push([service.name, exit]));
    await dev.ready({ timeoutMs: 40_000 });
  }, 60_000);

  afterAll(async () => {
    const pids = [alpha().pid, beta().pid];
    await dev?.stop();
    for (const pid of pids) if (pid) expect(alive(pid)).toBe(false);
  });

  it('runs each service in realm local, registered in the embedded Atlas, and says where they listen', async () => {
    expect([...dev.services.keys()]).toEqual(['alpha', 'beta']);
    for (const service of [alpha(), beta()]) {
      expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(service.pid).not.toBe(process.pid);
    }
    const catalog = await getJson(`${dev.atlasUrl}/v1/services?realm=local`);
    expect(catalog.body).toEqual([
      { service: 'alpha', instances: 1 },
      { service: 'beta', instances: 1 },
    ]);
    expect(printed).toContain('ready: 2 services in realm local');
    expect(printed).toMatch(new RegExp(`alpha +${alpha().url}`));
    expect(printed).toMatch(new RegExp(`atlas +${dev.atlasUrl}`));
    expect(printed).toMatch(new RegExp(`dashboard +${dev.dashboardUrl} +\\(traces, logs, config, monitor\\)`));
  });

  it('refuses a second session on the same folder (one Atlas database), and the first runs on', async () => {
    await expect(startDev({ root, output: false })).rejects.toMatchObject({
      code: devErrorCodes.alreadyRunning,
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    expect((await getJson(`${dev.atlasUrl}/health/live`)).status).toBe(200);
  });

  it('resolves service:// through Atlas: beta calls alpha, and the request id shows in both prefixed lines', async () => {
    const relay = await getJson(`${beta().url}/relay`, { headers: { 'x-request-id': 'dev-relay-1' } });
    expect(relay.status).toBe(200);
    expect(relay.body.alpha).toEqual({ service: 'alpha', pid: alpha().pid, requestId: 'dev-relay-1' });
    await eventually(() => printed.includes('GET /relay 200'));
    expect(printed).toMatch(
      /^alpha +│ \d\d:\d\d:\d\d\.\d{3} INFO {2}request completed GET \/whoami 200 .*\[dev-relay-1\]$/m,
    );
    expect(printed).toMatch(/^beta +│ .*request completed GET \/relay 200 .*\[dev-relay-1\]$/m);
    const line = dev.logs('alpha').find((l) => l.json?.path === '/whoami');
    expect(line?.json).toMatchObject({ requestId: 'dev-relay-1', status: 200, service: 'alpha' });
  });

  it('restarts only the service whose file changed, on the same URL; ignored folders change nothing', async () => {
    const before = { alpha: alpha().pid, beta: beta().pid, url: alpha().url, restarts: alpha().restarts };
    await mkdir(join(root, 'alpha/node_modules/some-dep'), { recursive: true });
    await writeFile(join(root, 'alpha/node_modules/some-dep/index.js'), 'export {}');
    await writeFile(join(root, 'alpha/.smart-scratch.swp'), 'x');
    await new Promise((r) => setTimeout(r, 600));
    expect(alpha().pid).toBe(before.alpha);

    await appendFile(join(root, 'alpha/src/server.ts'), '\n// edited\n');
    await eventually(() => alpha().pid !== undefined && alpha().pid !== before.alpha, 15_000);
    await dev.ready({ timeoutMs: 15_000 });
    expect(beta().pid).toBe(before.beta);
    expect(alpha().url).toBe(before.url);
    expect(alpha().restarts).toBe(before.restarts + 1);
    expect(printed).toContain('src/server.ts changed: restarting');
    expect(await relayed()).toMatchObject({ pid: alpha().pid });
  });

  it('reports a crashed service and restarts it; the other keeps running, and callers reach the new one', async () => {
    const before = { alpha: alpha().pid, beta: beta().pid };
    const crash = await getJson(`${alpha().url}/crash`, { method: 'POST' });
    expect(crash.body).toEqual({ crashing: true });
    await eventually(() => alpha().pid !== undefined && alpha().pid !== before.alpha, 15_000);
    await dev.ready({ timeoutMs: 15_000 });
    expect(exits).toContainEqual([
      'alpha',
      expect.objectContaining({ pid: before.alpha, code: 1, expected: false, restartInMs: 250 }),
    ]);
    expect(printed).toMatch(/^alpha +│ ✖ crashed \(exit code 1\): restarting in 250 ms$/m);
    expect(beta().pid).toBe(before.beta);
    // smart dev removed the dead instance's registration: only the new process is in Atlas.
    const instances = await getJson(`${dev.atlasUrl}/v1/services/alpha/instances?realm=local`);
    expect((instances.body as unknown as { metadata: { pid: number } }[]).map((i) => i.metadata.pid)).toEqual([
      alpha().pid,
    ]);
    expect(await relayed()).toMatchObject({ pid: alpha().pid });
  });

  it('backs off a service that cannot start, and a fix restarts it at once', async () => {
    const server = join(root, 'alpha/src/server.ts');
    const good = await readFile(server, 'utf8');
    exits.length = 0;
    await writeFile(server, `${good}\nthis is not TypeScript(\n`);
    await eventually(() => exits.filter(([name, e]) => name === 'alpha' && !e.expected).length >= 3, 15_000);
    const delays = exits.filter(([name, e]) => name === 'alpha' && !e.expected).map(([, e]) => e.restartInMs);
    expect(delays.slice(0, 3)).toEqual([250, 500, 1_000]);
    expect(dev.logs('alpha').some((l) => l.line.includes('SyntaxError'))).toBe(true);
    expect(beta().pid).toBeDefined();

    await writeFile(server, good);
    await dev.ready({ timeoutMs: 15_000 });
    expect(await relayed()).toMatchObject({ service: 'alpha', pid: alpha().pid });
  });
});

describe('smart dev (the command)', () => {
  it('stops every service and Atlas on SIGTERM, exits 0 and leaves no process behind', async () => {
    const root = await servicesFolder();
    const { child, output } = runCli(root);
    await eventually(() => output().includes('ready: 2 services'), 45_000);
    const pids = await childrenOf(child.pid as number);
    expect(pids).toHaveLength(3); // alpha, beta, atlas
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(output()).toMatch(/^alpha +│ .*shutdown complete/m);
    expect(output()).toMatch(/^smart dev +│ stopped$/m);
  }, 60_000);

  it('stops gracefully on Ctrl-C, which the terminal sends to its whole process group', async () => {
    const root = await servicesFolder();
    const { child, output } = runCli(root, true);
    await eventually(() => output().includes('ready: 2 services'), 45_000);
    const pids = await childrenOf(child.pid as number);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    process.kill(-(child.pid as number), 'SIGINT');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    // Each service got one signal, from smart dev: a second would have made it exit at once.
    expect(output()).not.toContain('second signal');
    expect(output().match(/shutdown complete/g)).toHaveLength(2);
  }, 60_000);

  it('lets the manifest fix a port, and DevOptions.env override the manifest', async () => {
    const root = await servicesFolder();
    const server = (await import('node:net')).createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const fixed = (server.address() as { port: number }).port;
    await new Promise((done) => server.close(done));
    const manifest = { services: { alpha: { dir: 'alpha', env: { SMART_HTTP__PORT: String(fixed) } } } };
    await writeFile(join(root, 'smart-dev.json'), JSON.stringify(manifest));

    const fromManifest = await startDev({ root, output: false, watch: false });
    try {
      await fromManifest.ready({ timeoutMs: 45_000 });
      expect(fromManifest.services.get('alpha')?.url).toBe(`http://127.0.0.1:${fixed}`);
    } finally {
      await fromManifest.stop();
    }
    const overridden = await startDev({ root, output: false, watch: false, env: { SMART_HTTP__PORT: '0' } });
    try {
      await overridden.ready({ timeoutMs: 45_000 });
      expect(overridden.services.get('alpha')?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(overridden.services.get('alpha')?.url).not.toBe(`http://127.0.0.1:${fixed}`);
    } finally {
      await overridden.stop();
    }
  }, 90_000);

  it('gives up at once on a second signal while Atlas is still starting, and leaves nothing behind', async () => {
    const root = await servicesFolder();
    // An Atlas that never listens: the command would wait 60 s for it.
    const atlas = join(root, 'node_modules/smart-atlas');
    await rm(atlas);
    await mkdir(atlas);
    const manifest = { name: 'smart-atlas', type: 'module', main: 'index.js', bin: { 'smart-atlas': 'bin.js' } };
    await writeFile(join(atlas, 'package.json'), JSON.stringify(manifest));
    await writeFile(join(atlas, 'index.js'), 'export {};\n');
    await writeFile(join(atlas, 'bin.js'), "console.log('starting');\nsetInterval(() => {}, 1_000);\n");
    const { child } = runCli(root);
    let pids: number[] = [];
    await eventually(async () => {
      pids = await childrenOf(child.pid as number);
      return pids.length === 1;
    }, 15_000);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const sent = Date.now();
    child.kill('SIGTERM');
    // Apart: two signals of a kind that are both pending reach a process as one.
    await new Promise((done) => setTimeout(done, 300));
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(Date.now() - sent).toBeLessThan(10_000);
    await eventually(() => pids.every((pid) => !alive(pid)), 5_000);
  }, 60_000);

  it('leaves no process behind even when it is killed with SIGKILL', async () => {
    const root = await servicesFolder();
    // Through a manifest this time, and beta logging warnings only: without
    // its "listening" line, its URL comes from its registration in Atlas.
    const manifest = { services: { alpha: 'alpha', beta: { dir: 'beta', env: { SMART_LOG__LEVEL: 'warn' } } } };
    await writeFile(join(root, 'smart-dev.json'), JSON.stringify(manifest));
    const { child, output } = runCli(root);
    await eventually(() => output().includes('ready: 2 services'), 45_000);
    expect(output()).toMatch(/smart dev │ {3}beta +http:\/\/127\.0\.0\.1:\d+$/m);
    expect(output()).toMatch(
      /smart dev │ {3}dashboard +http:\/\/127\.0\.0\.1:\d+ +\(traces, logs, config, monitor\)$/m,
    );
    expect(output()).not.toMatch(/^beta .*Server listening/m);
    const pids = await childrenOf(child.pid as number);
    expect(pids).toHaveLength(3);
    child.kill('SIGKILL');
    await eventually(() => pids.every((pid) => !alive(pid)), 15_000);
  }, 60_000);
});
