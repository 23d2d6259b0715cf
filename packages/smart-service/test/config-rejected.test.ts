import { defineConfig, memorySource } from 'smart-config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { build } from './helper.ts';

const definition = defineConfig({
  schema: z.object({ maxItems: z.number().int().max(10), greeting: z.string() }),
  defaults: { maxItems: 5, greeting: 'hello' },
});

describe('a runtime config source with a bad key (Atlas)', () => {
  it('the service starts on the key’s lower layers, logs it, and readiness names it without failing', async () => {
    const runtime = memorySource('atlas-like', { maxItems: 500, greeting: 'hi' }, { perKey: true });
    const app = await build({ config: definition, sources: [runtime] });
    expect(app.config.maxItems).toBe(5);
    expect(app.config.greeting).toBe('hi');
    expect(app.logs).toContainEqual(
      expect.objectContaining({
        level: 50,
        key: 'maxItems',
        source: 'atlas-like',
        msg: expect.stringContaining('refused'),
      }),
    );
    const ready = await app.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.config).toMatchObject({
      status: 'fail',
      critical: false,
      error: expect.stringContaining('maxItems'),
    });

    // Other keys keep applying live; fixing the key clears the check.
    runtime.set({ maxItems: 500, greeting: 'hey' });
    expect(app.config.greeting).toBe('hey');
    expect(app.config.maxItems).toBe(5);
    runtime.set({ maxItems: 8, greeting: 'hey' });
    expect(app.config.maxItems).toBe(8);
    expect((await app.inject('/health/ready')).json().checks.config.status).toBe('ok');
  });
});
