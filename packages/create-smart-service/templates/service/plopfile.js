// Micro-generators of this service: `pnpm generate route <name>`,
// `pnpm generate migration <name>`, `pnpm generate check <name>` (or
// `pnpm generate` to pick one). Each adds files that pass `pnpm test`.
import { existsSync, readdirSync } from 'node:fs';

const kebab = (value) =>
  /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(value) ||
  'use kebab-case: lower-case letters, digits and dashes (e.g. list-orders)';
const named = (what) => [{ type: 'input', name: 'item', message: `${what} name (kebab-case)`, validate: kebab }];

export default function generators(plop) {
  plop.setGenerator('route', {
    description: 'a route, GET /<name>, and its test',
    prompts: named('route'),
    actions: [
      { type: 'add', path: 'src/routes/{{kebabCase item}}.ts', templateFile: 'plop-templates/route.ts.hbs' },
      { type: 'add', path: 'test/{{kebabCase item}}.test.ts', templateFile: 'plop-templates/route.test.ts.hbs' },
      {
        type: 'modify',
        path: 'src/routes/index.ts',
        pattern: /(\/\/ plop: route imports)/,
        template: "import { {{camelCase item}} } from './{{kebabCase item}}.ts';\n$1",
      },
      {
        type: 'modify',
        path: 'src/routes/index.ts',
        pattern: /( {2}\/\/ plop: route registrations)/,
        template: '  await {{camelCase item}}(app);\n$1',
      },
    ],
  });

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
    actions: [
      { type: 'add', path: 'src/checks/{{kebabCase item}}.ts', templateFile: 'plop-templates/check.ts.hbs' },
      { type: 'add', path: 'test/{{kebabCase item}}-check.test.ts', templateFile: 'plop-templates/check.test.ts.hbs' },
      {
        type: 'modify',
        path: 'src/checks/index.ts',
        pattern: /(\/\/ plop: check imports)/,
        template: "import { {{camelCase item}}Check } from './{{kebabCase item}}.ts';\n$1",
      },
      {
        type: 'modify',
        path: 'src/checks/index.ts',
        pattern: /( {2}\/\/ plop: check registrations)/,
        template: '  {{camelCase item}}Check(app);\n$1',
      },
    ],
  });
}
