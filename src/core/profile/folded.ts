/**
 * Folded ("collapsed") stacks: `frame;frame;...;leaf <count>`, as written by
 * stackcollapse-*, inferno, async-profiler (`collapsed` output) and our own
 * collapse. The count is after the last space (frames may contain spaces) and
 * may be fractional; a second count makes a differential file (`stack base head`),
 * of which the last column is read. Unparsable lines are counted, not fatal.
 */
import { StackCounter } from './stacks.js';

export interface FoldedResult {
  lines: number;
  badLines: number;
  firstBad?: { line: number; text: string };
  /** Lines with two counts (differential folded): the head (last) count was used. */
  differential: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export class FoldedReader {
  readonly stacks = new StackCounter();
  private readonly result: FoldedResult = { lines: 0, badLines: 0, differential: 0 };

  /** `period`: weight of one sample when counts are not sample counts (e.g. ns of cpu-clock). */
  constructor(private readonly period?: number) {}

  line(line: string, lineNo: number): void {
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return;
    const sp = line.lastIndexOf(' ');
    const count = sp > 0 ? line.slice(sp + 1) : '';
    if (!NUMBER.test(count)) {
      this.bad(line, lineNo);
      return;
    }
    let stack = line.slice(0, sp).trimEnd();
    // A differential line: `stack base head`.
    const sp2 = stack.lastIndexOf(' ');
    if (sp2 > 0 && NUMBER.test(stack.slice(sp2 + 1))) {
      stack = stack.slice(0, sp2).trimEnd();
      this.result.differential++;
    }
    const weight = Number(count);
    if (!stack || !Number.isFinite(weight) || weight < 0) {
      this.bad(line, lineNo);
      return;
    }
    this.result.lines++;
    if (weight === 0) return;
    this.stacks.add(stack, weight, this.period ? weight / this.period : weight);
  }

  finish(): FoldedResult {
    return this.result;
  }

  private bad(line: string, lineNo: number) {
    this.result.badLines++;
    this.result.firstBad ??= { line: lineNo, text: line.length > 200 ? `${line.slice(0, 200)}...` : line };
  }
}
