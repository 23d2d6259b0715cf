import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_DIR, bundleOtlpProto, bundleUi, VENDOR_FILE } from '../scripts/bundle-ui.ts';

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

  it('decodes OTLP protobuf with the committed bundle of the official definitions (no protobufjs to install)', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'smart-dev-otlp-'));
    try {
      await bundleOtlpProto(join(fresh, 'otlp-proto.cjs'));
      expect(readFileSync(VENDOR_FILE, 'utf8')).toBe(readFileSync(join(fresh, 'otlp-proto.cjs'), 'utf8'));
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).not.toContain('@opentelemetry/otlp-transformer');
  });
});
