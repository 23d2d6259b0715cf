import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './helper.ts';

const hello = fileURLToPath(new URL('../examples/hello.ts', import.meta.url));
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
});

// The README's hello service, run as a user would.
describe('the hello example', () => {
  it('serves its route, health and metrics, logs JSON with the request id, and stops on SIGTERM with exit 0', async () => {
    child = spawn(process.execPath, [hello], {
      env: { PATH: process.env.PATH, SMART_HTTP__PORT: '0', SMART_REALM: 'local' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Record<string, unknown>[] = [];
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of String(chunk).split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line));
    });
    const exited = new Promise((resolve) => child?.once('exit', (code) => resolve(code)));
    await eventually(() => lines.some((line) => String(line.msg).startsWith('Server listening at')), 15_000);
    const base = String(lines.find((line) => String(line.msg).startsWith('Server listening at'))?.msg)
      .split(' ')
      .at(-1);

    const res = await request(`${base}/hello/ann`, { headers: { 'x-request-id': 'readme-1' } });
    expect(await res.body.json()).toEqual({ message: 'hello, ann', realm: 'local' });
    expect((await request(`${base}/health/ready`)).statusCode).toBe(200);
    expect(await (await request(`${base}/metrics`)).body.text()).toContain('route="/hello/:name"');

    await eventually(() => lines.filter((line) => line.requestId === 'readme-1').length === 2);
    expect(lines.find((line) => line.msg === 'greeting someone')).toMatchObject({
      service: 'hello',
      realm: 'local',
      version: '1.0.0',
      requestId: 'readme-1',
      name: 'ann',
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
