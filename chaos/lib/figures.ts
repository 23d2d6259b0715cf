// Each chaos test prints its figures as one line (`[chaos] name: key=value ...`),
// and appends them to SMART_CHAOS_FIGURES (a JSON-lines file) when set, so CI
// can keep them beside the run.
import { appendFileSync } from 'node:fs';

export type Figures = Record<string, number | string | boolean>;

/** Prints (and records) one test's figures. */
export function report(name: string, figures: Figures): void {
  const text = Object.entries(figures)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? Math.round(value * 100) / 100 : value}`)
    .join(' ');
  console.log(`[chaos] ${name}: ${text}`);
  const file = process.env.SMART_CHAOS_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ name, ...figures, at: new Date().toISOString() })}\n`);
}

/** The q-quantile (0..1) of a list of numbers. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
