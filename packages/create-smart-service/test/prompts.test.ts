import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, tempDir } from './helper.ts';

// A terminal on both ends: util-linux's `script` gives the command a pty.
describe('on a terminal', () => {
  it('asks for the missing answers (name, database, Redis) and uses them', async () => {
    const cwd = tempDir();
    const child = spawn('script', ['-qec', `${process.execPath} ${BIN} --no-install --no-git`, '/dev/null'], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const answers: [string, string][] = [
      ['Service name', 'orders\r'],
      ['With a database', 'y\r'],
      ['With Redis', 'n\r'],
    ];
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const next = answers[0];
      if (next && output.includes(next[0])) {
        answers.shift();
        child.stdin.write(next[1]);
      }
    });
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    expect(code, output).toBe(0);
    expect(answers).toEqual([]);
    expect(output).toContain('created orders');
    expect(existsSync(join(cwd, 'orders', 'migrations', '0001_create_greetings.ts'))).toBe(true);
    expect(existsSync(join(cwd, 'orders', 'test', 'redis.test.ts'))).toBe(false);
  });
});
