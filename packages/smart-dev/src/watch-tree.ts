import { type Dirent, type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';

/** Folders never watched: dependencies, build output, smart-service's own state. */
const IGNORED_DIRS = new Set(['node_modules', '.git', '.smart', 'dist', 'coverage', '.tmp', '.turbo', '.cache']);

/** Editor scratch files (vim's swap files and its `4913` probe, emacs locks, backups). */
function isScratch(name: string): boolean {
  return (
    name === '4913' ||
    name === '.DS_Store' ||
    name.endsWith('~') ||
    name.startsWith('.#') ||
    /\.(swp|swx|swo|tmp)$/.test(name)
  );
}

/** Whether a path (relative to the watched folder) is one whose change means nothing to the service. */
export function isIgnored(relativePath: string): boolean {
  const parts = relativePath.split(/[\\/]/);
  return parts.some((part) => IGNORED_DIRS.has(part)) || isScratch(basename(relativePath));
}

/**
 * Watches a folder and everything under it except `node_modules`, `.git`,
 * `.smart`, `dist` and editor scratch files; calls `onChange` with the
 * changed path relative to the folder.
 *
 * Node's own `fs.watch(dir, { recursive: true })` puts an inotify watch on
 * every file of the tree on Linux, node_modules included (3,300 watches
 * for a 3,000-file node_modules, measured here), with no way to skip a
 * folder: this keeps one watch per folder, and never enters ignored ones.
 *
 * @example
 * const watcher = watchTree('/code/shop/orders', (file) => console.log(`${file} changed`));
 * watcher.close();
 */
export function watchTree(root: string, onChange: (file: string) => void): { close(): void } {
  // Each watch with the inode of its folder: a folder deleted and made
  // again (a branch switch, a regenerated src/) is a new folder, and the
  // old watch on the deleted one would never report anything again.
  const watchers = new Map<string, { watcher: FSWatcher; ino: number }>();
  let closed = false;

  // Drops the watches of a folder and of everything under it.
  const forget = (dir: string) => {
    for (const [path, { watcher }] of watchers) {
      if (path === dir || path.startsWith(dir + sep)) {
        watcher.close();
        watchers.delete(path);
      }
    }
  };

  const add = (dir: string) => {
    if (closed || watchers.has(dir)) return;
    let watcher: FSWatcher;
    let ino: number;
    try {
      ino = statSync(dir).ino;
      watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (!name) return;
        const full = join(dir, name.toString());
        const rel = relative(root, full);
        if (isIgnored(rel)) return;
        // A new folder (or one moved in, or made again) gets its own watch,
        // and so does everything in it; a deleted one loses its watches.
        const now = folderIno(full);
        if (now === undefined) forget(full);
        else if (watchers.get(full)?.ino !== now) {
          forget(full);
          walk(full);
        }
        onChange(rel);
      });
    } catch {
      return; // gone already, or unreadable: nothing to watch
    }
    watcher.on('error', () => {
      watcher.close();
      if (watchers.get(dir)?.watcher === watcher) watchers.delete(dir);
    });
    watchers.set(dir, { watcher, ino });
  };

  const walk = (dir: string) => {
    add(dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !IGNORED_DIRS.has(entry.name)) walk(join(dir, entry.name));
    }
  };

  walk(root);
  return {
    close() {
      closed = true;
      for (const { watcher } of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

/** The inode of a folder, or undefined when `path` is no folder (any more). */
function folderIno(path: string): number | undefined {
  try {
    const stats = statSync(path);
    return stats.isDirectory() ? stats.ino : undefined;
  } catch {
    return undefined;
  }
}
