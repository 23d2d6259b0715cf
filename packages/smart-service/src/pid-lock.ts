import { dirname } from 'node:path';

// Not an ES import of node:fs: its export facade costs a cold start ~2 ms (its getters run).
const { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } = process.getBuiltinModule('node:fs');

/** Lock files held by this process, so a second taker in the same process is refused too. */
const held = new Set<string>();

/** Whether a process runs (ours or not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/**
 * Takes a pid file: one process at a time may use what it guards (an
 * embedded database folder, which two processes would silently corrupt).
 * Created with `O_EXCL`, so two processes starting at once can't both win; a
 * file left by a process that died is taken over. Returns the release
 * function, or throws what `refuse(pid)` builds when a live process holds it.
 *
 * Hand-written: `proper-lockfile` judges staleness by age, not by whether the
 * holder still runs, and can't say which pid holds the lock.
 *
 * @example
 * const release = acquirePidLock(`${dir}.pid`, (pid) => new Error(`${dir} is in use by pid ${pid}`));
 * try { ... } finally { release(); }
 */
export function acquirePidLock(file: string, refuse: (pid: number) => Error): () => void {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = ownerOf(file);
      const live = owner > 0 && (owner === process.pid ? held.has(file) : isAlive(owner));
      // A file being written (owner 0) gets a moment; a dead owner's file is removed and taken.
      if (live || attempt >= 3) throw refuse(owner);
      if (owner > 0) rmSync(file, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  held.add(file);
  return () => {
    if (!held.delete(file)) return;
    if (ownerOf(file) === process.pid) rmSync(file, { force: true });
  };
}
