import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { build } from '../src/app.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An embedded database, created and migrated once: each test app starts on a copy of it. */
    dbTemplate: string;
  }
}

/**
 * Creates the embedded database once per run and applies the migrations:
 * creating one takes seconds, copying it well under one, so each test still
 * gets a database of its own without paying for a new one.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'smart-db-template-'));
  const removeTemplate = () => rmSync(dir, { recursive: true, force: true });
  try {
    const app = await build({
      realm: 'local',
      env: { ...process.env, SMART_LOG__LEVEL: 'warn', SMART_DB__EMBEDDED_DIR: dir },
      // Creating the database can take more than Fastify's 10 s for a plugin on a busy 2-core CI runner.
      fastify: { pluginTimeout: 60_000 },
    });
    await app.ready();
    await app.close();
  } catch (err) {
    removeTemplate();
    throw err;
  }
  project.provide('dbTemplate', dir);
  return removeTemplate;
}
