import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AtlasClient } from 'atlas-client';
import { Haproxy } from './haproxy.ts';
import { parseServersState } from './haproxy-cli.ts';
import { HostPolicy } from './host-policy.ts';
import { RegistryWatch, type SidecarLog } from './registry-watch.ts';
import { ReloadScheduler } from './reload-scheduler.ts';
import { type BackendModel, type RenderOptions, renderConfig, type Timeouts } from './render.ts';
import type { Refusal, Target } from './screen.ts';
import { adoptSlots, planSlots, slotCount } from './slots.ts';

/** What the sidecar tells its metrics. */
export interface SidecarEvents {
  /** A complete haproxy.cfg was rendered (at start and for each reload). */
  onRender?(): void;
  /** Servers changed through the runtime API, without a reload. */
  onRuntimeChanges?(service: string, count: number): void;
  onReload?(outcome: 'ok' | 'failed', reasons: readonly string[], seconds: number): void;
  onRefused?(refusal: Refusal): void;
}

/** Options of `createSidecar`. */
export interface SidecarOptions {
  readonly atlas: AtlasClient;
  /** The realm whose services are routed. */
  readonly realm: string;
  /** The frontend services call (loopback). */
  readonly listen: { readonly host: string; readonly port: number };
  /** HAProxy's stats page and Prometheus endpoint; none when undefined. */
  readonly stats?: { readonly host: string; readonly port: number } | undefined;
  /** Where haproxy.cfg and the sockets live. */
  readonly dir: string;
  /** Default `haproxy` (on PATH). */
  readonly haproxyBin?: string;
  /** Free slots a backend has at least. Default 8. */
  readonly slots?: number;
  readonly reload?: { readonly debounceMs?: number; readonly minIntervalMs?: number };
  /** CIDRs instances may have; empty: any address but link-local, unspecified, multicast (and loopback outside `local`). */
  readonly allowedHosts?: readonly string[];
  readonly timeouts?: Partial<Timeouts>;
  readonly check?: { readonly intervalMs?: number; readonly fastIntervalMs?: number };
  /** Services never routed (the sidecar's own registration). */
  readonly ignore?: readonly string[];
  readonly log: SidecarLog;
  readonly events?: SidecarEvents | undefined;
}

const DEFAULT_TIMEOUTS: Timeouts = {
  connectMs: 2_000,
  requestMs: 60_000,
  keepAliveMs: 120_000,
  queueMs: 5_000,
  checkMs: 1_000,
};

/**
 * Keeps a local HAProxy in step with Atlas for one realm. It watches the
 * catalog and each service's instances (blocking queries), checks every
 * entry (service names, instance ids, hosts against the allowed ranges),
 * and applies instance changes through the runtime API, without a reload.
 * It reloads (validated first, seamless) only for a new service or a full
 * backend, debounced and at most once per interval. When Atlas is
 * unreachable, HAProxy keeps its last configuration; when it answers again,
 * the watches catch up.
 *
 * @example
 * const sidecar = await createSidecar({ atlas, realm: 'production', listen: { host: '127.0.0.1', port: 4180 }, dir: '.smart/sidecar', log });
 * // service://users/42 -> GET http://127.0.0.1:4180/42 with x-smart-service: users
 * await sidecar.close();
 */
export class Sidecar {
  readonly #options: SidecarOptions;
  readonly #render: RenderOptions;
  readonly #bin: string;
  readonly #files;
  readonly #minSlots: number;
  readonly #scheduler: ReloadScheduler;
  /** What HAProxy has: each backend's slots. */
  #backends = new Map<string, (Target | undefined)[]>();
  /** What Atlas says: each watched service's checked instances. */
  readonly #wanted = new Map<string, Target[]>();
  readonly #registry: RegistryWatch;
  readonly #dirty = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  #syncQueued = false;
  #haproxy: Haproxy | undefined;
  #synced = false;
  #reloading = false;
  #closed = false;
  readonly #counts = { renders: 0, runtimeChanges: 0, reloads: 0, failedReloads: 0 };

  constructor(options: SidecarOptions) {
    this.#options = options;
    const dir = resolve(options.dir);
    this.#bin = options.haproxyBin ?? 'haproxy';
    this.#files = {
      bin: this.#bin,
      configFile: join(dir, 'haproxy.cfg'),
      masterSocket: join(dir, 'master.sock'),
      adminSocket: join(dir, 'admin.sock'),
    };
    this.#minSlots = options.slots ?? 8;
    this.#registry = new RegistryWatch({
      atlas: options.atlas,
      realm: options.realm,
      policy: new HostPolicy({ realm: options.realm, allowed: options.allowedHosts }),
      ignore: options.ignore,
      log: options.log,
      onRefused: options.events?.onRefused,
      onInstances: (service, targets) => {
        if (this.#closed) return;
        this.#wanted.set(service, targets);
        this.#dirty.add(service);
        this.#scheduleSync();
      },
    });
    this.#render = {
      listen: options.listen,
      stats: options.stats,
      adminSocket: this.#files.adminSocket,
      realm: options.realm,
      timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
      check: { intervalMs: options.check?.intervalMs ?? 2_000, fastIntervalMs: options.check?.fastIntervalMs ?? 500 },
    };
    this.#scheduler = new ReloadScheduler(
      { debounceMs: options.reload?.debounceMs ?? 100, minIntervalMs: options.reload?.minIntervalMs ?? 1_000 },
      (reasons) => {
        this.#reloading = true;
        return this.#enqueue(() => this.#reload(reasons).finally(() => (this.#reloading = false)));
      },
    );
  }

  /** The files HAProxy runs from: `haproxy.cfg`, `master.sock`, `admin.sock`. */
  get files(): { readonly configFile: string; readonly masterSocket: string; readonly adminSocket: string } {
    return this.#files;
  }

  /** HAProxy's current worker pid (changes on a reload, and only then). */
  get workerPid(): number | undefined {
    return this.#haproxy?.workerPid;
  }

  /** True once HAProxy runs and the sidecar has applied Atlas's view (or, Atlas down, kept the last file). */
  get ready(): boolean {
    return this.#haproxy !== undefined && this.#synced && !this.#closed;
  }

  /** True while a reload waits for its debounce or interval, or runs. */
  get reloadPending(): boolean {
    return this.#scheduler.pending || this.#reloading;
  }

  /** Renders, runtime changes, reloads (and failed ones) so far. */
  get counts(): Readonly<{ renders: number; runtimeChanges: number; reloads: number; failedReloads: number }> {
    return { ...this.#counts };
  }

  /** How old the sidecar's view of Atlas may be: 0 while Atlas answers, else seconds since its last answer. */
  atlasLagSeconds(): number {
    return this.#registry.lagSeconds();
  }

  /** Answers when HAProxy's master answers (for the readiness check). */
  async ping(): Promise<void> {
    if (!(await Haproxy.showProc(this.#files.masterSocket))) throw new Error('HAProxy master does not answer');
  }

  /** Starts (or attaches to) HAProxy and the Atlas watches. */
  async start(): Promise<this> {
    await mkdir(resolve(this.#options.dir), { recursive: true, mode: 0o700 });
    const first = await this.#registry.read();
    let text: string | undefined;
    if (first) {
      for (const [service, targets] of first) {
        this.#wanted.set(service, targets);
        this.#backends.set(service, this.#sized(targets, []));
      }
      text = this.#renderNow();
    } else if (!existsSync(this.#files.configFile)) {
      text = this.#renderNow();
    } else {
      this.#options.log.warn(
        { file: this.#files.configFile },
        'Atlas is unreachable: HAProxy starts with the last configuration',
      );
    }
    this.#haproxy = await Haproxy.startOrAttach(this.#files, text, (line) =>
      this.#options.log.info({ haproxy: line }, 'haproxy'),
    );
    this.#options.log.info(
      { workerPid: this.#haproxy.workerPid, attached: !this.#haproxy.started, listen: this.#options.listen },
      this.#haproxy.started ? 'HAProxy started' : 'attached to a running HAProxy',
    );
    // What HAProxy has is the truth to plan against (an attached one, or the last file).
    if (!this.#haproxy.started || !first) {
      this.#backends = adoptSlots(parseServersState(await this.#haproxy.query('show servers state')));
      for (const service of this.#backends.keys()) this.#dirty.add(service);
    }
    this.#synced = true;
    this.#registry.start(this.#wanted.keys());
    if (this.#dirty.size > 0) this.#scheduleSync();
    return this;
  }

  // Every HAProxy operation runs in this one queue: runtime changes and reloads never interleave.
  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(work).catch((err: Error) => {
      this.#options.log.error({ err: { message: err.message, code: (err as { code?: string }).code } }, err.message);
    });
    return this.#queue;
  }

  #scheduleSync(): void {
    if (this.#syncQueued || this.#closed) return;
    this.#syncQueued = true;
    void this.#enqueue(async () => {
      this.#syncQueued = false;
      const services = [...this.#dirty];
      this.#dirty.clear();
      for (const service of services) await this.#sync(service);
    });
  }

  // Applies one service's instances through the runtime API; a new service or a full backend asks for a reload.
  async #sync(service: string): Promise<void> {
    const haproxy = this.#haproxy;
    const wanted = this.#wanted.get(service);
    if (!haproxy || !wanted || this.#closed) return;
    const slots = this.#backends.get(service);
    if (!slots) {
      if (wanted.length > 0) this.#scheduler.request(`new service ${service}`);
      return;
    }
    const plan = planSlots(service, slots, wanted);
    if (plan.commands.length > 0) {
      try {
        await haproxy.runtime(plan.commands);
      } catch (err) {
        // HAProxy's state is now uncertain: a reload renders it whole again.
        this.#options.log.error({ service, err: { message: (err as Error).message } }, 'runtime change failed');
        this.#scheduler.request(`runtime change failed for ${service}`);
        return;
      }
      this.#backends.set(service, [...plan.slots]);
      this.#counts.runtimeChanges += plan.changed;
      this.#options.events?.onRuntimeChanges?.(service, plan.changed);
    }
    if (plan.overflow.length > 0) this.#scheduler.request(`backend ${service} is out of slots`);
  }

  // Slots for a backend at a reload: the instances in the slots they have, new ones after, room to grow.
  #sized(wanted: readonly Target[], current: readonly (Target | undefined)[]): (Target | undefined)[] {
    const size = slotCount(wanted.length, current.length, this.#minSlots);
    const padded = [...current, ...new Array<undefined>(Math.max(0, size - current.length)).fill(undefined)];
    return [...planSlots('-', padded, wanted).slots];
  }

  #renderNow(backends: ReadonlyMap<string, readonly (Target | undefined)[]> = this.#backends): string {
    const models: BackendModel[] = [...backends].map(([service, slots]) => ({ service, slots }));
    this.#counts.renders++;
    this.#options.events?.onRender?.();
    return renderConfig(models, this.#render);
  }

  async #reload(reasons: readonly string[]): Promise<void> {
    const haproxy = this.#haproxy;
    if (!haproxy || this.#closed) return;
    const started = process.hrtime.bigint();
    const next = new Map<string, (Target | undefined)[]>();
    for (const [service, wanted] of this.#wanted) {
      const current = this.#backends.get(service) ?? [];
      // A service with no instance left and no backend yet is not worth a backend.
      if (wanted.length === 0 && current.length === 0) continue;
      next.set(service, this.#sized(wanted, current));
    }
    const text = this.#renderNow(next);
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      await haproxy.reload(text);
    } catch (err) {
      this.#counts.failedReloads++;
      this.#options.events?.onReload?.('failed', reasons, seconds());
      this.#options.log.error(
        { reasons, err: { message: (err as Error).message } },
        'HAProxy reload failed: the running configuration stays',
      );
      return;
    }
    this.#backends = next;
    this.#counts.reloads++;
    this.#options.events?.onReload?.('ok', reasons, seconds());
    this.#options.log.info({ reasons, workerPid: haproxy.workerPid, seconds: seconds() }, 'HAProxy reloaded');
  }

  /** Stops the watches and, when the sidecar started HAProxy, HAProxy (a soft stop). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#scheduler.close();
    await this.#registry.stop();
    await this.#queue;
    await this.#haproxy?.stop();
  }
}

/**
 * Starts a sidecar: reads Atlas, renders haproxy.cfg, starts HAProxy (or
 * attaches to the one whose master answers in `dir`), then follows Atlas.
 *
 * @example
 * const sidecar = await createSidecar({ atlas, realm: 'production', listen: { host: '127.0.0.1', port: 4180 }, dir: '.smart/sidecar', log: app.log });
 */
export function createSidecar(options: SidecarOptions): Promise<Sidecar> {
  return new Sidecar(options).start();
}
