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

export interface TrieNode {
  kids: Map<number, TrieNode> | undefined;
  weight: number;
  samples: number;
}

/**
 * Stacks as paths of interned frame ids: a parser adds a stack with a few
 * integer-keyed lookups instead of building and hashing its folded string
 * (the hot path of a 1 GB perf capture). Folded strings are made once per
 * distinct stack at the end.
 */
export class StackTrie {
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly root: TrieNode = { kids: undefined, weight: 0, samples: 0 };

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  name(id: number): string {
    return this.names[id]!;
  }

  /**
   * `rootId` then `leafFirst` walked from its end (the outermost frame) to index 0 (the leaf).
   * Returns the stack's node: a caller that knows the next stack is the same adds to it with `bump`.
   */
  add(rootId: number, leafFirst: number[], weight: number, samples: number): TrieNode {
    let node = this.child(this.root, rootId);
    for (let i = leafFirst.length - 1; i >= 0; i--) node = this.child(node, leafFirst[i]!);
    node.weight += weight;
    node.samples += samples;
    return node;
  }

  bump(node: TrieNode, weight: number, samples: number): void {
    node.weight += weight;
    node.samples += samples;
  }

  private child(node: TrieNode, id: number): TrieNode {
    let kids = node.kids;
    if (kids === undefined) node.kids = kids = new Map();
    let c = kids.get(id);
    if (c === undefined) kids.set(id, (c = { kids: undefined, weight: 0, samples: 0 }));
    return c;
  }

  toCounter(): StackCounter {
    const out = new StackCounter();
    // Depth-first with an explicit stack (stacks can be 100,000 frames deep), children in insertion order.
    const todo: Array<[TrieNode, string]> = [];
    const pushKids = (node: TrieNode, prefix: string) => {
      if (!node.kids) return;
      const kids = [...node.kids];
      for (let i = kids.length - 1; i >= 0; i--) {
        const [id, c] = kids[i]!;
        todo.push([c, prefix ? `${prefix};${this.names[id]}` : this.names[id]!]);
      }
    };
    pushKids(this.root, '');
    while (todo.length) {
      const [node, prefix] = todo.pop()!;
      if (node.samples > 0 || node.weight > 0) out.add(prefix, node.weight, node.samples);
      pushKids(node, prefix);
    }
    return out;
  }
}
