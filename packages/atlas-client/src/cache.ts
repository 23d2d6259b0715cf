import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The last-known-good copy of what the client read, one JSON file per read,
 * written atomically (temp file, then rename) and readable only by the
 * owner: config may hold secret values.
 */
export class LastKnownGood {
  readonly #dir: string;
  // Saves of one file in this process happen one after another, in call order.
  readonly #queues = new Map<string, Promise<void>>();
  #saves = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(kind: string, ...parts: string[]): string {
    return join(this.#dir, `${kind}-${parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, '_')).join('-')}.json`);
  }

  async save(kind: string, parts: string[], data: unknown): Promise<void> {
    const file = this.#file(kind, ...parts);
    const text = JSON.stringify({ savedAt: Date.now(), data });
    const run = (this.#queues.get(file) ?? Promise.resolve()).then(async () => {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      const temp = `${file}.${process.pid}.${++this.#saves}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, file);
    });
    const queued = run.catch(() => {});
    this.#queues.set(file, queued);
    void queued.then(() => {
      if (this.#queues.get(file) === queued) this.#queues.delete(file);
    });
    return run;
  }

  async load<T>(kind: string, parts: string[]): Promise<{ savedAt: number; data: T } | undefined> {
    try {
      return JSON.parse(await readFile(this.#file(kind, ...parts), 'utf8'));
    } catch {
      return undefined;
    }
  }
}
