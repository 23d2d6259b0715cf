#!/usr/bin/env node
import { Command } from 'commander';
import { cliClient, configGet, configSet, configUnset, listInstances, listServices } from '../src/cli.ts';

const program = new Command('smart-atlas')
  .description('Atlas: the registry and config service of smart services. Uses SMART_ATLAS_URL and SMART_ATLAS_TOKEN.')
  .option('--url <url>', 'Atlas URL (default SMART_ATLAS_URL, then http://127.0.0.1:4100)');

const realmDefault = process.env.SMART_REALM ?? 'local';
async function print(work: (client: ReturnType<typeof cliClient>) => Promise<string[]>) {
  const client = cliClient(process.env, program.opts<{ url?: string }>().url);
  try {
    for (const line of await work(client)) console.log(line);
  } finally {
    await client.close();
  }
}

program
  .command('serve')
  .description('run Atlas (config from the environment: SMART_DB__URL, SMART_ATLAS__MASTER_KEY, SMART_HTTP__PORT, ...)')
  .option(
    '--data <dir>',
    'the embedded database folder, when there is no SMART_DB__URL (default SMART_DB__EMBEDDED_DIR, then ./.smart/atlas)',
  )
  .action(async (options: { data?: string }) => {
    // Loaded here: the server (Fastify, the database, tracing) is most of the
    // package, and the admin commands, run once per shell line, need none of it.
    const { createAtlas } = await import('../src/create-atlas.ts');
    const atlas = await createAtlas(options.data ? { dataDir: options.data } : {});
    // A port already taken: close the database and watches, or the process
    // would stay up with nothing listening.
    await atlas.start().catch(async (err: unknown) => {
      await atlas.close();
      throw err;
    });
  });

const config = program.command('config').description('read and change config');
config
  .command('get <service> <realm> [key]')
  .description('print the config of a service in a realm (its keys over _global)')
  .action((service: string, realm: string, key?: string) => print((c) => configGet(c, service, realm, key)));
config
  .command('set <service> <realm> <assignments...>')
  .description('set keys: key=value (JSON, or a string)')
  .option('--secret', 'store encrypted; readable only by the service and admins')
  .action((service: string, realm: string, pairs: string[], options: { secret?: boolean }) =>
    print((c) => configSet(c, service, realm, pairs, options.secret ?? false)),
  );
config
  .command('unset <service> <realm> <keys...>')
  .description('remove keys')
  .action((service: string, realm: string, keys: string[]) => print((c) => configUnset(c, service, realm, keys)));

program
  .command('services')
  .description('list services with live instances')
  .option('--realm <realm>', 'realm', realmDefault)
  .action((options: { realm: string }) => print((c) => listServices(c, options.realm)));
program
  .command('instances <service>')
  .description('list live instances of a service')
  .option('--realm <realm>', 'realm', realmDefault)
  .action((service: string, options: { realm: string }) => print((c) => listInstances(c, service, options.realm)));

const tokens = program.command('tokens').description('manage tokens (admin)');
tokens
  .command('create')
  .requiredOption('--name <name>', 'who the token is for (shown in the audit trail)')
  .requiredOption('--scope <scope>', 'admin, service or catalog')
  .requiredOption('--realm <realm>', 'the realm it may see, or * (admin only)')
  .option('--service <service>', 'for a service token: the service it acts as')
  .action((options: { name: string; scope: 'admin' | 'service' | 'catalog'; realm: string; service?: string }) =>
    print(async (c) => {
      const created = await c.createToken(options);
      return [created.token, `(token ${created.id}: shown this once; store it as SMART_ATLAS_TOKEN)`];
    }),
  );

await program.parseAsync().catch((err: Error & { code?: string }) => {
  console.error(`smart-atlas: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exitCode = 1;
});
