import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Sidecar, SidecarEvents } from './sidecar.ts';

/**
 * The sidecar's metrics on the service's registry: renders, runtime
 * changes, reloads (by outcome, and how long they took), refused registry
 * entries, and Atlas lag (0 while Atlas answers, else seconds since its
 * last answer).
 *
 * @example
 * const events = sidecarMetrics(app.metrics, () => sidecar);
 */
export function sidecarMetrics(registry: Registry, sidecar: () => Sidecar | undefined): SidecarEvents {
  const registers = [registry];
  const renders = new Counter({
    name: 'sidecar_renders_total',
    help: 'Complete haproxy.cfg renders (at start and for each reload).',
    registers,
  });
  const changes = new Counter<'service'>({
    name: 'sidecar_runtime_changes_total',
    help: 'Servers changed through the HAProxy runtime API (no reload), by service.',
    labelNames: ['service'],
    registers,
  });
  const reloads = new Histogram<'outcome'>({
    name: 'sidecar_reload_duration_seconds',
    help: 'HAProxy reloads (validate, install, new worker up), by outcome; _count is the number of reloads.',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const refused = new Counter<'what'>({
    name: 'sidecar_refused_total',
    help: 'Registry entries refused as unsafe (bad names, hosts outside the allowed ranges), by kind.',
    labelNames: ['what'],
    registers,
  });
  new Gauge({
    name: 'sidecar_atlas_lag_seconds',
    help: "How old the sidecar's view of Atlas may be: 0 while Atlas answers, else seconds since its last answer.",
    registers,
    collect() {
      this.set(sidecar()?.atlasLagSeconds() ?? 0);
    },
  });
  return {
    onRender: () => renders.inc(),
    onRuntimeChanges: (service, count) => changes.inc({ service }, count),
    onReload: (outcome, _reasons, seconds) => reloads.observe({ outcome }, seconds),
    onRefused: (refusal) => refused.inc({ what: refusal.what }),
  };
}
