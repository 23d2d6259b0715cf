import { relative } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import nodePlop from 'node-plop';
import { CreateError, codes } from './errors.ts';
import { type Answers, generate } from './generate.ts';
import { detectPackageManager, type PackageManager } from './package-manager.ts';
import { gitInit, install, versionOf } from './steps.ts';
import { targetDir, validateName } from './validate.ts';
import { writeFiles } from './write.ts';

/** Where the command reads and writes: the process's, or a test's. */
export interface Io {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Ask for missing answers (a terminal on both ends). */
  readonly interactive: boolean;
}

interface Flags {
  dir?: string;
  db?: boolean;
  redis?: boolean;
  install: boolean;
  git: boolean;
  packageManager?: PackageManager;
  localPackages?: string;
  yes?: boolean;
}

function program(): Command {
  return new Command('create-smart-service')
    .description(
      'Create a new smart service: typed config, a Fastify app with health, metrics and logs, tests, Dockerfile.',
    )
    .argument('[name]', 'the service name, kebab-case (e.g. orders)')
    .option('--dir <path>', 'the folder to create (default ./<name>); must not exist or be empty')
    .option('--db', 'with a database (Postgres; embedded PGlite in realm local)')
    .option('--no-db', 'without a database')
    .option('--redis', 'with Redis')
    .option('--no-redis', 'without Redis')
    .option('--no-install', 'do not install dependencies')
    .option('--no-git', 'do not create a git repository')
    .addOption(
      new Option(
        '--package-manager <pm>',
        'the package manager for the service (default: the one running this command, else npm)',
      ).choices(['pnpm', 'npm']),
    )
    .option(
      '--local-packages <path>',
      'a smart-service checkout whose packages to depend on (until they are published); env SMART_SERVICE_PACKAGES',
    )
    .option('-y, --yes', 'ask nothing: defaults for whatever is not given')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
}

async function ask(name: string | undefined, flags: Flags): Promise<{ name: string; db: boolean; redis: boolean }> {
  const plop = await nodePlop();
  const prompts = [
    ...(name === undefined
      ? [
          {
            type: 'input',
            name: 'name',
            message: 'Service name (kebab-case)',
            validate: (value: string) => {
              try {
                validateName(value);
                return true;
              } catch (err) {
                return (err as Error).message;
              }
            },
          },
        ]
      : []),
    ...(flags.db === undefined
      ? [{ type: 'confirm', name: 'db', message: 'With a database (Postgres)?', default: false }]
      : []),
    ...(flags.redis === undefined ? [{ type: 'confirm', name: 'redis', message: 'With Redis?', default: false }] : []),
  ];
  const answered = prompts.length > 0 ? await plop.setGenerator('service', { prompts, actions: [] }).runPrompts() : {};
  return {
    name: name ?? (answered.name as string),
    db: flags.db ?? (answered.db as boolean),
    redis: flags.redis ?? (answered.redis as boolean),
  };
}

/**
 * The whole command: checks the name and the folder before anything is
 * written, renders the service, writes it at once, then `git init` and the
 * install. Returns the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), { cwd: process.cwd(), env: process.env, ... });
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const say = (line: string) => io.stdout.write(`${line}\n`);
  const fail = (err: unknown) => {
    const code = (err as { code?: string }).code;
    io.stderr.write(
      `create-smart-service: ${err instanceof CreateError ? `${code}: ` : ''}${(err as Error).message}\n`,
    );
    return 1;
  };
  const cli = program();
  try {
    cli.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')) {
      say(cli.helpInformation());
      return 0;
    }
    return fail(new CreateError(codes.invalidOption, (err as Error).message.replace(/^error: /, '')));
  }
  const flags = cli.opts<Flags>();
  let name = cli.args[0];
  try {
    // A name given on the command line is checked (with its folder) before any question is asked.
    if (name !== undefined) targetDir(validateName(name), flags.dir, io.cwd);
    else if (!io.interactive || flags.yes)
      throw new CreateError(codes.invalidName, 'a service name is required: create-smart-service <name>');

    const chosen =
      io.interactive && !flags.yes
        ? await ask(name, flags)
        : { name: name as string, db: flags.db ?? false, redis: flags.redis ?? false };
    name = chosen.name;
    // Checked again: the name may come from a prompt, and the folder may have appeared meanwhile.
    const target = targetDir(validateName(name), flags.dir, io.cwd);
    const detected = detectPackageManager(io.env.npm_config_user_agent);
    if (detected.note && !flags.packageManager) io.stderr.write(`create-smart-service: note: ${detected.note}\n`);
    const packageManager = flags.packageManager ?? detected.name;
    const answers: Answers = {
      ...chosen,
      packageManager,
      packageManagerVersion:
        detected.name === packageManager && detected.version ? detected.version : await versionOf(packageManager),
      localPackages: flags.localPackages ?? io.env.SMART_SERVICE_PACKAGES,
    };
    const files = await generate(answers);
    await writeFiles(target, files);
    say(
      `created ${name} in ${target} (${files.length} files${answers.db ? ', database' : ''}${answers.redis ? ', Redis' : ''})`,
    );

    // The install first, so the first commit holds the lockfile it writes.
    let installFailure: unknown;
    if (flags.install) {
      try {
        await install(target, packageManager, { stream: io.stderr });
      } catch (err) {
        installFailure = err; // the files are still committed below
      }
    }
    if (flags.git) {
      try {
        await gitInit(target);
        say('initialised a git repository with a first commit');
      } catch (err) {
        fail(err); // the service is still usable without it
      }
    }
    if (installFailure !== undefined) return fail(installFailure);
    const where = relative(io.cwd, target) || '.';
    const run = packageManager === 'pnpm' ? 'pnpm' : 'npm run';
    say('\nnext:');
    say(`  cd ${where}`);
    if (!flags.install) say(`  ${packageManager} install`);
    say(`  ${run} dev     # smart dev: the service and its own Atlas, realm local, restarts on change`);
    say(`  ${run} test    # the service's tests`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}
