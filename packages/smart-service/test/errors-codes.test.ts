import { readFileSync } from 'node:fs';
import { undocumentedCodes } from 'smart-protocol/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.ts';
import { build } from './helper.ts';

describe('error codes', () => {
  it('are unique, prefixed SMART_SERVICE_, and each is documented in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(undocumentedCodes({ codes: api.errorCodes, readme, prefix: 'SMART_SERVICE_' })).toEqual([]);
  });

  it('app.db and app.redis say how to enable them in a service that has none', async () => {
    const app = await build();
    expect(() => app.db).toThrow(expect.objectContaining({ code: 'SMART_SERVICE_FEATURE_DISABLED' }));
    expect(() => app.redis).toThrow(/SMART_REDIS__URL/);
    await expect(Promise.resolve().then(() => app.migrate())).rejects.toMatchObject({
      code: 'SMART_SERVICE_FEATURE_DISABLED',
    });
  });
});
