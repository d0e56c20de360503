/**
 * Progress on stderr, only for a person watching: stderr is a TTY, no
 * `--json`, no `--quiet`, not in CI. Redraws at most every 100 ms.
 */
export interface ProgressOptions {
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  readonly enabled: boolean;
  private label = '';
  private total = 0;
  private done = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.enabled;
  }

  static shouldShow(flags: { json: boolean; quiet: boolean }, stream: NodeJS.WriteStream = process.stderr): boolean {
    return Boolean(stream.isTTY) && !flags.json && !flags.quiet && !process.env.CI;
  }

  start(label: string, total = 0): void {
    this.label = label;
    this.total = total;
    this.done = 0;
    this.lastDraw = 0;
    this.draw(true);
  }

  tick(n = 1): void {
    this.done += n;
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
    const pct = this.total > 0 ? ` ${Math.floor((100 * this.done) / this.total)}%` : '';
    const count = this.total > 0 ? ` (${this.done}/${this.total})` : this.done > 0 ? ` (${this.done})` : '';
    this.stream.write(`\r\x1b[2K${this.label}${pct}${count}`);
    this.drawn = true;
  }
}
