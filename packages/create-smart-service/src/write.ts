import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GeneratedFile } from './generate.ts';

/**
 * Writes the files under `target` (created if missing). If a write fails
 * half-way, what was written is removed again, so a failed run leaves no
 * half service behind.
 *
 * @example
 * await writeFiles('/home/ann/orders', files);
 */
export async function writeFiles(target: string, files: readonly GeneratedFile[]): Promise<void> {
  const created = await mkdir(target, { recursive: true });
  try {
    for (const file of files) {
      const path = join(target, file.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, file.contents, { flag: 'wx' });
    }
  } catch (err) {
    // Only a folder this run created is removed; an existing empty one is emptied.
    if (created) await rm(created, { recursive: true, force: true });
    else
      for (const file of files)
        await rm(join(target, file.path.split('/')[0] as string), { recursive: true, force: true });
    throw err;
  }
}
