#!/usr/bin/env node
import { Command } from 'commander';
import { migrateCommand } from '../src/cli.ts';
import { devCommand } from '../src/dev/dev-command.ts';

const program = new Command('smart').description('Run and manage a smart service.');

program
  .command('migrate')
  .description('apply pending database migrations from db.migrationsDir')
  .option('--app <module>', 'the module that exports build()', 'src/app.ts')
  .action(async (options: { app: string }) => {
    const applied = await migrateCommand(options);
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'nothing to apply: the database is up to date');
  });

program
  .command('dev [root]')
  .description('run a folder of services with an embedded Atlas, restarting them on change and on crash')
  .option('--only <names>', 'only these services (comma-separated)')
  .option('--no-watch', 'do not restart services when their files change')
  .option('--atlas-port <port>', 'the embedded Atlas port (default 4100, or a free one when taken)')
  .action(async (root: string | undefined, options: { only?: string; watch: boolean; atlasPort?: string }) => {
    const code = await devCommand({ root: root ?? '.', ...options });
    // Everything is stopped: nothing left is worth waiting for.
    process.exit(code);
  });

await program.parseAsync().catch((err: Error & { code?: string }) => {
  console.error(`smart: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exitCode = 1;
});
