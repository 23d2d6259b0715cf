// A tour of smart-config: run it with `pnpm demo` (or `node examples/demo.ts`).
// Try `SMART_REALM=production SMART_DB__URL=postgres://db/orders SMART_DB__PASSWORD=s3cret pnpm demo`.

import { defineConfig, loadConfig, memorySource, secret } from 'smart-config';
import { z } from 'zod';

const definition = defineConfig({
  schema: z.object({
    port: z.number().int().min(1).max(65535),
    log: z.object({ level: z.enum(['debug', 'info', 'warn', 'error']) }),
    db: z.object({
      url: z.string().startsWith('postgres://'),
      password: z.string().min(1),
      poolMax: z.number().int().positive(),
    }),
    features: z.array(z.string()),
  }),
  defaults: {
    port: 3000,
    log: { level: 'info' },
    db: { url: 'postgres://localhost/orders', password: secret({ local: 'postgres' }), poolMax: 10 },
    features: [],
  },
  realms: {
    local: { log: { level: 'debug' } },
    production: { db: { poolMax: 50 } },
  },
});

// In a service, Atlas is the runtime layer; here an in-memory source stands in for it.
const runtime = memorySource('runtime');
const config = await loadConfig(definition, {
  service: 'orders',
  env: { SMART_DB__POOL_MAX: '20', ...process.env },
  sources: [runtime],
});

console.log(`realm: ${config.realm}`);
console.log('value:', JSON.stringify(config.value));
console.log(
  `the password prints as ${config.value.db.password}, reveal() gives ${config.value.db.password.reveal().length} characters`,
);
console.log('\nwhere each key came from:');
for (const { key, value, source, overridden } of config.explain()) {
  const below = overridden.map((o) => `${o.source}=${JSON.stringify(o.value)}`).join(', ');
  console.log(
    `  ${key.padEnd(12)} ${JSON.stringify(value).padEnd(32)} from ${source}${below ? `  (overrides ${below})` : ''}`,
  );
}

config.on('change', ({ changed }) =>
  console.log(`\nlive change accepted: ${changed.join(', ')} -> port ${config.value.port}`),
);
config.on('error', (err) =>
  console.log(`\nlive change rejected (${err.code}), port stays ${config.value.port}:\n${err.message}`),
);
runtime.set({ port: 8081, features: ['hedging'] });
runtime.set({ port: 'eighty' });

await config.close();
