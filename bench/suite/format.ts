/**
 * How figures read as text, the same in the console table and in the markdown report.
 */
import type { Figure } from './types.js';

/** 1,234,567 for big values, 12.3 or 1.23 for small ones. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "812,345 (790,000–830,001)" */
export function spread(f: Figure): string {
  return f.runs.length > 1 ? `${num(f.median)} (${num(f.min)}–${num(f.max)})` : num(f.median);
}

/** The console row of a figure. */
export function consoleRow(f: Figure): string {
  const extra: string[] = [];
  if (f.mbPerSec !== undefined) extra.push(`${num(f.mbPerSec)} MB/s`);
  if (f.brokerRssMb !== undefined) extra.push(`broker RSS ≤ ${num(f.brokerRssMb)} MB`);
  const value = `${spread(f)} ${f.unit}`;
  return `  ${f.name.padEnd(70)} ${value.padStart(38)}${extra.length ? `  ${extra.join(', ')}` : ''}`;
}

/** Params as "key=value; key=value" (objects as JSON). */
export function paramText(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}
