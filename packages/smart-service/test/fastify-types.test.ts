import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

describe('the published types', () => {
  it('reach every declare module fastify block (app.start, app.redis, ...) through fastify-types.ts', () => {
    const index = readFileSync(join(SRC, 'index.ts'), 'utf8');
    expect(index).toContain("export type {} from './fastify-types.ts';");
    const listed = readFileSync(join(SRC, 'fastify-types.ts'), 'utf8');
    const augmenting = readdirSync(SRC, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && entry.name !== 'fastify-types.ts')
      .map((entry) => relative(SRC, join(entry.parentPath, entry.name)).split('\\').join('/'))
      .filter((file) => /declare module 'fastify'/.test(readFileSync(join(SRC, file), 'utf8')));
    expect(augmenting.length).toBeGreaterThan(5);
    const missing = augmenting.filter((file) => !listed.includes(`export type {} from './${file}';`));
    expect(missing).toEqual([]);
  });
});
