#!/usr/bin/env node
import { Command } from 'commander';
import { migrateCommand } from '../src/cli.ts';

const program = new Command('smart').description('Run and manage a smart service.');

program
  .command('migrate')
  .description('apply pending database migrations from db.migrationsDir')
  .option('--app <module>', 'the module that exports build()', 'src/app.ts')
  .action(async (options: { app: string }) => {
    const applied = await migrateCommand(options);
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'nothing to apply: the database is up to date');
  });

await program.parseAsync().catch((err: Error & { code?: string }) => {
  console.error(`smart: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exitCode = 1;
});
