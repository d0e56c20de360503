/**
 * Collapsed stacks keyed by their folded string ("root;...;leaf"), with a
 * weight (period / value sum) and a sample count kept apart: weights are in
 * the profile's unit (often nanoseconds), the statistics need sample counts.
 */
import type { StackCount } from './model.js';

export class StackCounter {
  readonly map = new Map<string, StackCount>();
  totalWeight = 0;
  totalSamples = 0;

  add(stack: string, weight: number, samples: number): void {
    const e = this.map.get(stack);
    if (e) {
      e.weight += weight;
      e.samples += samples;
    } else this.map.set(stack, { weight, samples });
    this.totalWeight += weight;
    this.totalSamples += samples;
  }

  /** Folded text sorted by stack (byte order, as stackcollapse's `sort`). */
  toFolded(): string {
    const keys = [...this.map.keys()].sort(byteOrder);
    let out = '';
    for (const k of keys) out += `${k} ${formatCount(this.map.get(k)!.weight)}\n`;
    return out;
  }
}

export const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Integers as integers, fractions with up to 6 significant decimals, no exponent for the usual range. */
export function formatCount(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(+n.toFixed(6));
}
