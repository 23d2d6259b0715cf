import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_DIR, bundleUi } from '../scripts/bundle-ui.ts';

describe('the dashboard page', () => {
  it('is committed as built from ui/src (run `pnpm --filter smart-dev build:ui` after changing it)', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'smart-dev-ui-'));
    try {
      await bundleUi(fresh);
      const files = readdirSync(fresh).sort();
      expect(readdirSync(BUNDLE_DIR).sort()).toEqual(files);
      for (const file of files) {
        expect(readFileSync(join(BUNDLE_DIR, file), 'utf8'), file).toBe(readFileSync(join(fresh, file), 'utf8'));
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
