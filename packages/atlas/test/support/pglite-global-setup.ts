// The atlas-pglite project's template: one embedded database, migrated once;
// each test file copies it (a fresh PGlite folder takes seconds to create).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createAtlas } from '../../src/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    /** Where each test file's copy goes; removed whole after the run. */
    pgliteRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'atlas-pglite-'));
  const template = join(dir, 'template');
  const atlas = await createAtlas({
    realm: 'local',
    dataDir: template,
    env: { SMART_ATLAS__MASTER_KEY: 'a'.repeat(64), SMART_LOG__LEVEL: 'error' },
    logDestination: { write: () => true } as never,
  });
  await atlas.close();
  project.provide('pgliteTemplate', template);
  project.provide('pgliteRoot', dir);
  return () => rm(dir, { recursive: true, force: true });
}
