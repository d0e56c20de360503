/**
 * Progress on stderr, only for a person watching: stderr is a TTY, no
 * `--json`, no `--quiet`, not in CI. Redraws at most every 100 ms.
 */
import type { ProgressSink } from '../core/io/progress.js';

export interface ProgressOptions {
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

export class Progress implements ProgressSink {
  private readonly stream: NodeJS.WriteStream;
  readonly enabled: boolean;
  private label = '';
  private unit = '';
  private total = 0;
  private done = 0;
  private bytes = 0;
  private startedAt = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.enabled;
  }

  static shouldShow(flags: { json: boolean; quiet: boolean }, stream: NodeJS.WriteStream = process.stderr): boolean {
    return Boolean(stream.isTTY) && !flags.json && !flags.quiet && !process.env.CI;
  }

  start(label: string, total = 0, unit = ''): void {
    this.label = label;
    this.unit = unit;
    this.total = total;
    this.done = 0;
    this.bytes = 0;
    this.startedAt = Date.now();
    this.lastDraw = 0;
    this.draw(true);
  }

  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Set the absolute count (and the bytes behind it, for MB/s). */
  update(done: number, bytes?: number, total?: number): void {
    this.done = done;
    if (total !== undefined) this.total = total;
    if (bytes !== undefined) this.bytes = bytes;
    this.draw(false);
  }

  /** Clear the line (before printing results or an error). */
  stop(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const secs = Math.max(1e-3, (now - this.startedAt) / 1000);
    const unit = this.unit ? ` ${this.unit}` : '';
    const parts = [this.label];
    if (this.total > 0) parts.push(`${Math.floor((100 * this.done) / this.total)}%`, `${human(this.done)}/${human(this.total)}${unit}`);
    else if (this.done > 0) parts.push(`${human(this.done)}${unit}`);
    if (this.done > 0 && secs > 0.5) {
      parts.push(`${human(this.done / secs)}${unit}/s`);
      if (this.bytes > 0) parts.push(`${(this.bytes / 1e6 / secs).toFixed(1)} MB/s`);
      if (this.total > this.done) parts.push(`ETA ${Math.ceil(((this.total - this.done) * secs) / this.done)}s`);
    }
    this.stream.write(`\r\x1b[2K${parts.join('  ')}`);
    this.drawn = true;
  }
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(Math.round(n));
}
