// Micro-generators of this service: `pnpm generate route <name>`,
// `pnpm generate migration <name>` (with a database), `pnpm generate check <name>` (or
// `pnpm generate` to pick one). Each adds files that pass `pnpm test`.
import { existsSync, readdirSync } from 'node:fs';

const kebab = (value) =>
  /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(value) ||
  'use kebab-case: lower-case letters, digits and dashes (e.g. list-orders)';
const named = (what) => [{ type: 'input', name: 'item', message: `${what} name (kebab-case)`, validate: kebab }];

/**
 * Adds a module and its test, then imports the module into `index` and
 * registers it there, at the `// plop: <kind> imports` and
 * `// plop: <kind> registrations` markers.
 */
const registered = ({ kind, folder, test, exported, registration, types }) => [
  { type: 'add', path: `${folder}/{{kebabCase item}}.ts`, templateFile: `plop-templates/${kind}.ts.hbs` },
  { type: 'add', path: test, templateFile: `plop-templates/${kind}.test.ts.hbs` },
  {
    type: 'modify',
    path: `${folder}/index.ts`,
    pattern: new RegExp(`(// plop: ${kind} imports)`),
    template: `import { ${exported} } from './{{kebabCase item}}.ts';\n$1`,
  },
  // A route's contract joins the service's `Routes` type (what typed clients take).
  ...(types
    ? [
        {
          type: 'modify',
          path: `${folder}/index.ts`,
          pattern: / (\/\* plop: route types \*\/)/,
          template: ` & typeof ${types} $1`,
        },
      ]
    : []),
  {
    type: 'modify',
    path: `${folder}/index.ts`,
    pattern: new RegExp(`( {2}// plop: ${kind} registrations)`),
    template: `  ${registration}\n$1`,
  },
];

export default function generators(plop) {
  plop.setGenerator('route', {
    description: 'a route, GET /<name>, with its zod schemas (validated, typed, in /openapi.json), and its test',
    prompts: named('route'),
    actions: registered({
      kind: 'route',
      folder: 'src/routes',
      test: 'test/{{kebabCase item}}.test.ts',
      exported: '{{camelCase item}}, type {{camelCase item}}Routes',
      registration: 'await {{camelCase item}}(app);',
      types: '{{camelCase item}}Routes',
    }),
  });

  // Only a service with a database has migrations (and kysely to write them with).
  if (existsSync(new URL('plop-templates/migration.ts.hbs', import.meta.url)))
    plop.setGenerator('migration', {
      description: 'the next numbered migration in migrations/',
      prompts: named('migration'),
      actions: () => {
        // Migrations run in name order: number them after the last one.
        const taken = existsSync('migrations') ? readdirSync('migrations').filter((f) => /^\d{4}_/.test(f)) : [];
        const last = Math.max(0, ...taken.map((f) => Number(f.slice(0, 4))));
        const number = String(last + 1).padStart(4, '0');
        return [
          {
            type: 'add',
            path: `migrations/${number}_{{snakeCase item}}.ts`,
            templateFile: 'plop-templates/migration.ts.hbs',
          },
        ];
      },
    });

  plop.setGenerator('check', {
    description: 'a readiness check, shown in /health/ready',
    prompts: named('check'),
    actions: registered({
      kind: 'check',
      folder: 'src/checks',
      test: 'test/{{kebabCase item}}-check.test.ts',
      exported: '{{camelCase item}}Check',
      registration: '{{camelCase item}}Check(app);',
    }),
  });
}
