/** One sample of a Prometheus text exposition. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The samples of a `/metrics` answer (Prometheus text format 0.0.4; comments
 * and `# TYPE` lines skipped). Only the families `wanted` returns true for
 * are kept, so a scrape costs what the monitor reads.
 *
 * @example
 * parsePrometheusText('http_requests_total{route="/"} 3\n');
 * // [{ name: 'http_requests_total', labels: { route: '/' }, value: 3 }]
 */
export function parsePrometheusText(text: string, wanted: (name: string) => boolean = () => true): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match?.[1] || !wanted(match[1])) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      if (key) labels[key] = (raw ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}
