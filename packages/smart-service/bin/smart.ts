#!/usr/bin/env node
import { Command } from 'commander';
import { delegateToSmartDev, migrateCommand } from '../src/cli.ts';

const program = new Command('smart').description('Run and manage a smart service.');

program
  .command('migrate')
  .description('apply pending database migrations from db.migrationsDir')
  .option('--app <module>', 'the module that exports build()', 'src/app.ts')
  .action(async (options: { app: string }) => {
    const applied = await migrateCommand(options);
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'nothing to apply: the database is up to date');
  });

// Both live in smart-dev; every argument after the command's name goes to it as typed.
for (const [name, description] of [
  ['dev', 'run a folder of services with an embedded Atlas and a dashboard (from smart-dev)'],
  ['monitor', 'requests/s, % errors, p50 and p99 of every service in a realm (from smart-dev)'],
] as const) {
  program
    .command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async () => {
      const code = await delegateToSmartDev(process.argv.slice(2));
      // Everything is stopped: nothing left is worth waiting for.
      process.exit(code);
    });
}

await program.parseAsync().catch((err: Error & { code?: string }) => {
  console.error(`smart: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exitCode = 1;
});
