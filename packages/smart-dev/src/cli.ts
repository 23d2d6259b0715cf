import { Command } from 'commander';
import { devCommand } from './dev-command.ts';
import { monitorCommand } from './monitor/monitor-command.ts';

/**
 * The `smart-dev` command line (also `smart dev` and `smart monitor`, which
 * smart-service's `smart` hands over to this). Resolves with the exit code.
 *
 * @example
 * process.exitCode = await runCli(['dev', 'examples/fibpro']);
 * process.exitCode = await runCli(['monitor', '--atlas', 'http://127.0.0.1:4100']);
 */
export async function runCli(argv: readonly string[], name = 'smart-dev'): Promise<number> {
  let code = 0;
  const program = new Command(name)
    .description('Run a folder of smart services for development, with a dashboard; watch any realm with monitor.')
    .exitOverride();
  program
    .command('dev [root]', { isDefault: true })
    .description('run a folder of services with an embedded Atlas and a dashboard, restarting them on change and crash')
    .option('--only <names>', 'only these services (comma-separated)')
    .option('--no-watch', 'do not restart services when their files change')
    .option('--atlas-port <port>', 'the embedded Atlas port (default 4100, or a free one when taken)')
    .option('--dashboard-port <port>', 'the dashboard port (default 4200, or a free one when taken)')
    .option('--no-dashboard', 'no dashboard (and no OTLP receiver)')
    .action(async (root: string | undefined, options: Record<string, string | boolean | undefined>) => {
      code = await devCommand({ root: root ?? '.', ...options });
    });
  program
    .command('monitor')
    .description('every service and its upstreams: requests/s, % errors, p50 and p99, refreshed every second')
    .option('--atlas <url>', 'the Atlas to read the catalog from (default SMART_ATLAS_URL, else http://127.0.0.1:4100)')
    .option('--realm <realm>', 'the realm to watch (default SMART_REALM, else local)')
    .option('--token <token>', 'an Atlas token that may read the realm (default SMART_ATLAS_TOKEN)')
    .option('--interval <ms>', 'how often to refresh, in ms', '1000')
    .action(async (options: { atlas?: string; realm?: string; token?: string; interval: string }) => {
      code = await monitorCommand(options);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    // commander's own exits (help, version, a bad option): it printed why already.
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    console.error(`${name}: ${e.code ? `${e.code}: ` : ''}${e.message}`);
    return 1;
  }
  return code;
}
