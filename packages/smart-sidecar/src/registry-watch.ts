import type { AtlasClient, Instance } from 'atlas-client';
import type { HostPolicy } from './host-policy.ts';
import { type Refusal, screenInstance, screenService, type Target } from './screen.ts';

/** The slice of a pino logger the sidecar writes to. */
export interface SidecarLog {
  info(detail: object, message: string): void;
  warn(detail: object, message: string): void;
  error(detail: object, message: string): void;
}

/** Options of a {@link RegistryWatch}. */
export interface RegistryWatchOptions {
  readonly atlas: AtlasClient;
  readonly realm: string;
  readonly policy: HostPolicy;
  /** Services never followed (the sidecar's own registration). */
  readonly ignore?: readonly string[] | undefined;
  readonly log: SidecarLog;
  /** A service's checked instances, now and on every change. */
  readonly onInstances: (service: string, targets: Target[]) => void;
  readonly onRefused?: ((refusal: Refusal) => void) | undefined;
}

/**
 * What Atlas says, checked: a blocking watch on the realm's catalog, and
 * one on each service's instances; every entry screened (names, ids,
 * hosts) before it is passed on, every refusal logged once by name. Knows
 * how stale its view may be while Atlas does not answer.
 *
 * @example
 * const watch = new RegistryWatch({ atlas, realm, policy, log, onInstances: (service, targets) => apply(service, targets) });
 * watch.start([]);
 */
export class RegistryWatch {
  readonly #options: RegistryWatchOptions;
  readonly #watches = new Map<string, { stop(): Promise<void> }>();
  // Screening may resolve host names: an older answer that finishes later must not win.
  readonly #answers = new Map<string, number>();
  readonly #refusedSeen = new Set<string>();
  #catalogWatch: { stop(): Promise<void> } | undefined;
  #lastAnswer = Date.now();
  #failing = false;
  #stopped = false;

  constructor(options: RegistryWatchOptions) {
    this.#options = options;
  }

  /** 0 while Atlas answers, else seconds since its last answer. */
  lagSeconds(): number {
    return this.#failing ? (Date.now() - this.#lastAnswer) / 1_000 : 0;
  }

  /** The catalog and every service's checked instances, read once (no watch); undefined when Atlas does not answer. */
  async read(): Promise<Map<string, Target[]> | undefined> {
    const { atlas, realm } = this.#options;
    try {
      const catalog = await atlas.catalog(realm);
      const services = catalog.data.map((entry) => entry.service).filter((name) => this.#accepts(name));
      const entries = await Promise.all(
        services.map(
          async (service) => [service, await this.#screen((await atlas.instances(service, realm)).data)] as const,
        ),
      );
      this.#answered();
      return new Map(entries);
    } catch (err) {
      this.#failed(err as Error);
      return undefined;
    }
  }

  /** Starts the catalog watch, and an instances watch for each of `services` (more follow the catalog). */
  start(services: Iterable<string>): void {
    this.#catalogWatch = this.#options.atlas.watchCatalog(
      this.#options.realm,
      (catalog) => {
        this.#answered();
        for (const { service } of catalog)
          if (!this.#watches.has(service) && this.#accepts(service)) this.#watch(service);
      },
      { onError: (err) => this.#failed(err) },
    );
    for (const service of services) this.#watch(service);
  }

  #accepts(name: unknown): name is string {
    if (typeof name === 'string' && this.#options.ignore?.includes(name)) return false;
    const refusal = screenService(name);
    if (refusal) this.#refused(refusal);
    return refusal === undefined;
  }

  #refused(refusal: Refusal): void {
    const key = `${refusal.name} ${refusal.reason}`;
    if (this.#refusedSeen.has(key)) return;
    if (this.#refusedSeen.size > 10_000) this.#refusedSeen.clear();
    this.#refusedSeen.add(key);
    this.#options.log.warn(refusal, `registry ${refusal.what} refused: ${refusal.name}: ${refusal.reason}`);
    this.#options.onRefused?.(refusal);
  }

  async #screen(instances: readonly Instance[]): Promise<Target[]> {
    const results = await Promise.all(instances.map((instance) => screenInstance(instance, this.#options.policy)));
    const targets: Target[] = [];
    for (const result of results) {
      if ('reason' in result) this.#refused(result);
      else targets.push(result);
    }
    return targets;
  }

  #answered(): void {
    if (this.#failing) this.#options.log.info({}, 'Atlas answers again: catching up');
    this.#failing = false;
    this.#lastAnswer = Date.now();
  }

  #failed(err: Error): void {
    if (!this.#failing)
      this.#options.log.warn(
        { err: { message: err.message, code: (err as { code?: string }).code } },
        'Atlas is unreachable: HAProxy keeps routing with the last configuration',
      );
    this.#failing = true;
  }

  #watch(service: string): void {
    if (this.#watches.has(service) || this.#stopped) return;
    const watch = this.#options.atlas.watchInstances(
      service,
      this.#options.realm,
      (instances) => {
        this.#answered();
        const seq = (this.#answers.get(service) ?? 0) + 1;
        this.#answers.set(service, seq);
        void this.#screen(instances).then((targets) => {
          if (!this.#stopped && this.#answers.get(service) === seq) this.#options.onInstances(service, targets);
        });
      },
      { onError: (err) => this.#failed(err) },
    );
    this.#watches.set(service, watch);
  }

  /** Stops every watch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([this.#catalogWatch?.stop(), ...[...this.#watches.values()].map((watch) => watch.stop())]);
  }
}
