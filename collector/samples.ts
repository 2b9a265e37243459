/** Pure helpers to read an instance's samples (for reviews and tests). */
import type { Sample } from './contract.js';

/** The samples of one metric. */
export function of(samples: readonly Sample[], metric: string): Sample[] {
  return samples.filter((s) => s.metric === metric);
}

/** One value by metric and labels (the first match), or undefined. */
export function valueOf(samples: readonly Sample[], metric: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;
}

/** A duration in words, as a person reads an age: "45 s", "12 min", "3 h", "5 d". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** A ratio as a percentage, "7%" or "0.4%". */
export const percent = (ratio: number) => `${ratio < 0.01 ? (ratio * 100).toFixed(1) : Math.round(ratio * 100)}%`;
