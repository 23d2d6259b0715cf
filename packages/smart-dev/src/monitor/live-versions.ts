/** What Atlas says of one instance: its version and metadata (a smart service's carries `apiHash`). */
export interface VersionedInstance {
  readonly version: string;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
}

/** One version of a service that is live, with its API document's hash and how many instances run it. */
export interface LiveVersion {
  readonly version: string;
  /** The instance's `metadata.apiHash` (its OpenAPI document's sha256, 16 hex digits), when it published one. */
  readonly apiHash: string | undefined;
  readonly instances: number;
}

const apiHashOf = (instance: VersionedInstance): string | undefined => {
  const hash = instance.metadata?.apiHash;
  return typeof hash === 'string' ? hash : undefined;
};

/**
 * The distinct (version, API hash) pairs among a service's live instances,
 * sorted by version: more than one means its instances disagree (a rollout
 * under way, or one version built twice with different routes).
 *
 * @example
 * liveVersions([{ version: '0.1.0', metadata: { apiHash: 'ab12' } }]); // [{ version: '0.1.0', apiHash: 'ab12', instances: 1 }]
 */
export function liveVersions(instances: readonly VersionedInstance[]): LiveVersion[] {
  const found = new Map<string, { version: string; apiHash: string | undefined; instances: number }>();
  for (const instance of instances) {
    const apiHash = apiHashOf(instance);
    const key = `${instance.version}\n${apiHash ?? ''}`;
    const entry = found.get(key) ?? { version: instance.version, apiHash, instances: 0 };
    entry.instances += 1;
    found.set(key, entry);
  }
  return [...found.values()].sort(
    (a, b) =>
      a.version.localeCompare(b.version, 'en', { numeric: true }) || (a.apiHash ?? '').localeCompare(b.apiHash ?? ''),
  );
}

/**
 * How the live versions read in one line: `0.1.0`, `0.1.0, 0.2.0 (2 versions live)`,
 * or `0.1.0 (2 API documents live)` when one version serves different APIs; `-` for none.
 *
 * @example
 * versionsText(liveVersions(instances)); // '0.1.0, 0.2.0 (2 versions live)'
 */
export function versionsText(live: readonly LiveVersion[]): string {
  const versions = [...new Set(live.map((v) => v.version))];
  if (versions.length === 0) return '-';
  if (versions.length > 1) return `${versions.join(', ')} (${versions.length} versions live)`;
  const hashes = new Set(live.map((v) => v.apiHash ?? ''));
  return hashes.size > 1 ? `${versions[0]} (${hashes.size} API documents live)` : (versions[0] as string);
}
