import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Generated, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentApp } from '../src/index.ts';
import { build, eventually, freshDatabase } from './helper.ts';

const MIGRATIONS = {
  '0001_create_greetings.ts': `
import type { Kysely } from 'kysely';
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('greetings')
    .addColumn('id', 'serial', (col) => col.primaryKey())
    .addColumn('text', 'text', (col) => col.notNull())
    .execute();
}
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('greetings').execute();
}
`,
  '0002_seed_greetings.ts': `
import { type Generated, sql } from 'kysely';
export async function up(db) {
  await sql\`insert into greetings (text) values ('hello'), ('hej')\`.execute(db);
}
`,
};

// Inside the package, so migrations resolve 'kysely' as they would in a real service.
const scratch = join(import.meta.dirname, '.tmp');

let root: string;
beforeAll(async () => {
  await mkdir(scratch, { recursive: true });
  root = await mkdtemp(join(scratch, 'db-'));
  await mkdir(join(root, 'migrations'));
  for (const [name, source] of Object.entries(MIGRATIONS)) await writeFile(join(root, 'migrations', name), source);
});
afterAll(() => rm(root, { recursive: true, force: true }));

type Db = { greetings: { id: Generated<number>; text: string } };

describe('db on Postgres', () => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase();
  });

  it('applies migrations from the service folder, and app.db queries Postgres', async () => {
    const app = await build({
      root,
      realm: 'testing',
      env: { SMART_DB__URL: url, SMART_DB__MIGRATE_AT_START: 'true' },
    });
    const db = app.db.withTables<Db>();
    const rows = await db.selectFrom('greetings').select('text').orderBy('id').execute();
    expect(rows.map((row) => row.text)).toEqual(['hello', 'hej']);
    expect(app.logs.find((line) => line.msg === 'migrations applied')).toMatchObject({
      migrations: ['0001_create_greetings', '0002_seed_greetings'],
    });
    expect(await app.migrate()).toEqual([]); // already applied: nothing to do
    const { rows: version } = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(app.db);
    expect(version[0]?.v).toMatch(/^\d+/);
    expect((await app.inject('/health/ready')).json().checks.db).toMatchObject({ status: 'ok', critical: true });
  });

  it('survives a pooled connection killed by pg_terminate_backend, and keeps answering', async () => {
    const app = await build({ root, realm: 'testing', env: { SMART_DB__URL: url } });
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => crashes.push(err);
    process.on('uncaughtException', onCrash);
    afterAll(() => {
      process.off('uncaughtException', onCrash);
    });

    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(app.db);
    const pid = rows[0]?.pid;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await admin.end();

    await eventually(() => app.logs.some((line) => line.msg === 'idle database connection lost'));
    const { rows: after } = await sql<{ one: number }>`select 1 as one`.execute(app.db);
    expect(after[0]?.one).toBe(1);
    expect(crashes).toEqual([]);
  });

  it('keeps the database open for requests in flight when the app closes', async () => {
    const app = await build({ root, realm: 'testing', env: { SMART_DB__URL: url } });
    app.get('/slow-db', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(app.db);
      return rows[0];
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const inFlight = fetch(`${base}/slow-db`).then(async (res) => ({ status: res.status, body: await res.json() }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await app.close();
    expect(await inFlight).toEqual({ status: 200, body: { one: 1 } });
  });

  it('never logs the database URL or its password', async () => {
    const app = await build({ root, realm: 'testing', env: { SMART_DB__URL: url } });
    app.log.info({ config: app.config }, 'config');
    expect(JSON.stringify(app.logs)).not.toContain(new URL(url).password);
  });

  it('refuses to start without a URL outside local when the service uses a database', async () => {
    await expect(build({ root, realm: 'production', db: true })).rejects.toMatchObject({
      code: 'SMART_SERVICE_SETTING_MISSING',
      key: 'db.url',
      message: expect.stringContaining('SMART_DB__URL'),
    });
  });

  it('reports a failing migration with a coded error naming it', async () => {
    const badRoot = await mkdtemp(join(scratch, 'db-bad-'));
    afterAll(() => rm(badRoot, { recursive: true, force: true }));
    await mkdir(join(badRoot, 'migrations'));
    await writeFile(
      join(badRoot, 'migrations', '0001_broken.ts'),
      "import { type Generated, sql } from 'kysely';\nexport async function up(db) { await sql`select * from no_such_table`.execute(db); }\n",
    );
    const other = await freshDatabase();
    await expect(
      build({ root: badRoot, realm: 'testing', env: { SMART_DB__URL: other, SMART_DB__MIGRATE_AT_START: 'true' } }),
    ).rejects.toMatchObject({
      code: 'SMART_SERVICE_MIGRATION_FAILED',
      message: expect.stringContaining('0001_broken'),
    });
    // The half-built app was closed: it is not the current app of the process.
    expect(() => currentApp()).toThrow(/no smart service/);
  });
});

describe('db in realm local with no URL', () => {
  it('uses the embedded database under the service folder, migrated at start, and keeps data across restarts', async () => {
    const first = await build({ root, realm: 'local', db: true });
    const db = first.db.withTables<Db>();
    await db.insertInto('greetings').values({ text: 'saved' }).execute();
    expect(existsSync(join(root, '.smart', 'pglite'))).toBe(true);
    expect(first.logs.some((line) => line.msg?.toString().includes('embedded database'))).toBe(true);
    expect((await first.inject('/health/ready')).json().checks.db.status).toBe('ok');
    await first.close();

    const second = await build({ root, realm: 'local', db: true });
    const rows = await second.db.withTables<Db>().selectFrom('greetings').select('text').orderBy('id').execute();
    expect(rows.map((row) => row.text)).toEqual(['hello', 'hej', 'saved']);
    await second.close();
  }, 60_000);

  it('refuses a second app on the same embedded folder, naming the folder and the pid that holds it, until the first closes', async () => {
    const first = await build({ root, realm: 'local', db: true });
    const dir = join(root, '.smart', 'pglite');
    await expect(build({ root, realm: 'local', db: true })).rejects.toMatchObject({
      code: 'SMART_SERVICE_EMBEDDED_DB_IN_USE',
      message: expect.stringContaining(`${dir} is in use by another process (pid ${process.pid})`),
    });
    await first.close();
    const after = await build({ root, realm: 'local', db: true });
    expect((await after.inject('/health/ready')).json().checks.db.status).toBe('ok');
    await after.close();
  }, 60_000);
});
