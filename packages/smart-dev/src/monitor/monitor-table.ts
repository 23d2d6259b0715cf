import type { MetricsHistory, RateStats } from './metrics-history.ts';
import { seriesName } from './metrics-history.ts';

/** How a latency reads: `850 µs`, `4.2 ms`, `1.30 s`; `-` for none. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)} µs`;
  if (seconds < 1) return `${(seconds * 1000).toFixed(seconds < 0.01 ? 1 : 0)} ms`;
  return `${seconds.toFixed(2)} s`;
}

const row = (name: string, instances: string, s: RateStats | undefined, versions = '') =>
  [
    name.padEnd(30),
    instances.padStart(4),
    (s ? s.rps.toFixed(1) : '-').padStart(9),
    (s ? `${s.errorPct.toFixed(1)}%` : '-').padStart(8),
    formatSeconds(s?.p50).padStart(9),
    formatSeconds(s?.p99).padStart(9),
    ...(versions ? [` ${versions}`] : []),
  ].join(' ');

/**
 * The monitor's table: every service, then each of its upstreams indented
 * under it (`→ pricing`), with requests/s, % errors, p50 and p99 over the
 * history's window, and the versions of the service that are live
 * (`0.1.0, 0.2.0 (2 versions live)`, from {@link versionsText}).
 *
 * @example
 * console.log(monitorTable(collector.history, new Map([['pricing', 1]]), new Map([['pricing', '0.1.0']])).join('\n'));
 */
export function monitorTable(
  history: MetricsHistory,
  instances: ReadonlyMap<string, number>,
  versions: ReadonlyMap<string, string> = new Map(),
): string[] {
  const latest = history.latest();
  const services = history.services();
  for (const name of instances.keys()) if (!services.has(name)) services.set(name, []);
  const lines = [
    ['SERVICE'.padEnd(30), 'INST', '    REQ/S', '   ERR %', '      P50', '      P99', ' VERSIONS'].join(' '),
  ];
  for (const [service, upstreams] of [...services].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(row(service, String(instances.get(service) ?? 0), latest.get(service), versions.get(service) ?? '-'));
    for (const upstream of upstreams) lines.push(row(`  → ${upstream}`, '', latest.get(seriesName(service, upstream))));
  }
  return lines;
}
