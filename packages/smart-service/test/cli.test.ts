import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, SECRETS } from './helper.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/smart.ts', import.meta.url));
const scratch = join(import.meta.dirname, '.tmp');

let service: string;
beforeAll(async () => {
  await mkdir(scratch, { recursive: true });
  service = await mkdtemp(join(scratch, 'cli-'));
  await mkdir(join(service, 'src'));
  await mkdir(join(service, 'migrations'));
  await writeFile(
    join(service, 'src', 'app.ts'),
    `import { createSmartService } from '../../../../src/index.ts';
export async function build() {
  return createSmartService({ name: 'cli-service', root: import.meta.dirname + '/..', db: true });
}
`,
  );
  await writeFile(
    join(service, 'migrations', '0001_create_users.ts'),
    `export async function up(db) {
  await db.schema.createTable('users').addColumn('name', 'text', (c) => c.primaryKey()).execute();
}
`,
  );
});

describe('smart migrate', () => {
  it('applies pending migrations of the service, then reports it is up to date', async () => {
    const url = await freshDatabase();
    const env = { PATH: process.env.PATH, SMART_REALM: 'testing', SMART_DB__URL: url, SMART_LOG__LEVEL: 'warn' };
    const first = await run(process.execPath, [bin, 'migrate'], { cwd: service, env });
    expect(first.stdout).toContain('applied: 0001_create_users');
    const again = await run(process.execPath, [bin, 'migrate'], { cwd: service, env });
    expect(again.stdout).toContain('nothing to apply');
    expect(first.stdout + first.stderr + again.stdout + again.stderr).not.toContain(SECRETS.dbPassword);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(
      "select count(*)::int as n from information_schema.tables where table_name = 'users'",
    );
    await client.end();
    expect(rows[0].n).toBe(1);
  });

  it('reports the migrations applied while building in realm local', async () => {
    const env = {
      PATH: process.env.PATH,
      SMART_REALM: 'local',
      SMART_DB__EMBEDDED_DIR: '.smart/cli-pglite',
      SMART_LOG__LEVEL: 'warn',
    };
    const first = await run(process.execPath, [bin, 'migrate'], { cwd: service, env });
    expect(first.stdout).toContain('applied: 0001_create_users');
    const again = await run(process.execPath, [bin, 'migrate'], { cwd: service, env });
    expect(again.stdout).toContain('nothing to apply');
  }, 60_000);

  it('fails with a clear message and exit code 1 when the module has no build()', async () => {
    await writeFile(join(service, 'src', 'empty.ts'), 'export const nothing = 1;\n');
    const failure = await run(process.execPath, [bin, 'migrate', '--app', 'src/empty.ts'], { cwd: service }).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('SMART_SERVICE_INVALID_OPTION');
    expect((failure as { stderr: string }).stderr).toContain('must export a build() function');
  });
});
