// The `smart` command's program (bin/smart.ts loads it once the compile cache is on).
import { Command } from 'commander';
import { apiClientCommand, apiDiffCommand, apiExportCommand } from '../src/api/commands.ts';
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

const api = program
  .command('api')
  .description("the service's OpenAPI document: export it, diff two, generate a typed client");
api
  .command('export')
  .description("write the app's OpenAPI document (built from its route schemas, without listening)")
  .option('--app <module>', 'the module that exports build()', 'src/app.ts')
  .option('--out <file>', 'where to write it (default: print it)')
  .action(async (options: { app: string; out?: string }) => {
    const text = await apiExportCommand(options);
    if (options.out) console.log(`wrote ${options.out}`);
    else process.stdout.write(text);
  });
api
  .command('diff')
  .description('list the changes between two OpenAPI documents (files or URLs); exit 1 on a breaking one')
  .argument('<old>', 'the released document')
  .argument('<new>', 'the new document')
  .option('--accept <file>', 'breaking changes declared on purpose: one line each, as this command prints them')
  .option('--allow-breaking', 'report breaking changes but exit 0')
  .action(async (old: string, next: string, options: { accept?: string; allowBreaking?: boolean }) => {
    const { report, exitCode } = await apiDiffCommand({ old, new: next, ...options });
    console.log(report);
    process.exitCode = exitCode;
  });
api
  .command('client')
  .description("generate a typed client module from a service's OpenAPI document (file or URL)")
  .argument('<source>', 'the document: a file or http(s)://host:port/openapi.json')
  .option('--out <file>', 'where to write the module (default: print it)')
  .option('--service <name>', 'the service name for service:// calls (default: the document title)')
  .action(async (source: string, options: { out?: string; service?: string }) => {
    const text = await apiClientCommand({ source, ...options });
    if (options.out) console.log(`wrote ${options.out}`);
    else process.stdout.write(text);
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
