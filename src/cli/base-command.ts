/**
 * RecallCommand: the one base class. It owns what every command shares, so a
 * command reads like a recipe (parse flags, call src/core, return a result):
 * - `--json`: the returned object is printed as JSON on stdout; errors as
 *   `{"error": {code, exit, message, file, row, offset, fix}}`.
 * - exit codes 0 / 1 / 2 / 3 / 4 / 130 (errors.ts), kept under `--json` too
 *   (oclif 4 alone would exit 1 there); a command that finishes with a
 *   verdict (verify found damage, a gate failed) sets `this.exitCode`.
 * - errors print as one line on stderr: where, what, fix (`--verbose` adds
 *   the stack).
 * - SIGINT / SIGTERM (signals.ts): aborts `this.signal`, the running job
 *   stops and removes its partial output, exit 130 / 143; a second signal
 *   exits at once after removing temp files.
 * - progress on stderr only for a person watching (progress.ts).
 */
import { Command, type Config, Flags, type Interfaces } from '@oclif/core';
import { ExitCode, type RecallError, toRecallError } from '../core/errors.js';
import { colourFor } from './colour.js';
import { Progress } from './progress.js';
import { removeInFlight } from '../core/io/atomic.js';
import { exitCodeOf, onStopSignal, type StopSignal, stopSignal } from './signals.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof RecallCommand)['baseFlags'] & T['flags']>;

export abstract class RecallCommand<T> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    quiet: Flags.boolean({
      char: 'q',
      description: 'Print no progress and no summary lines (results and errors still print).',
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({ char: 'v', description: 'Print stack traces with errors.', helpGroup: 'GLOBAL' }),
  };

  /** Aborted on Ctrl-C; pass it to every long job. */
  protected readonly signal: AbortSignal;
  protected progress = new Progress({ enabled: false });
  /** Set when a command completes with a non-zero verdict (e.g. 3 or 4). */
  protected exitCode: ExitCode = ExitCode.Ok;
  private readonly abort = new AbortController();
  private verbose = false;
  private stopListening = () => {};
  private quiet = false;

  constructor(argv: string[], config: Config) {
    super(argv, config);
    this.signal = this.abort.signal;
  }

  abstract override run(): Promise<T>;

  override async init(): Promise<void> {
    await super.init();
    // Cheap pre-scan: base flags are needed before run() parses everything.
    const argv = this.argv;
    const quiet = argv.includes('--quiet') || argv.includes('-q');
    this.quiet = quiet;
    this.verbose = argv.includes('--verbose') || argv.includes('-v');
    this.progress = new Progress({ enabled: Progress.shouldShow({ json: this.jsonEnabled(), quiet }) });
    this.stopListening = onStopSignal((sig) => this.interrupt(sig));
  }

  private interrupt(sig: StopSignal): void {
    this.progress.stop();
    process.stderr.write(`recall: interrupting (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to quit at once)\n`);
    this.abort.abort();
  }

  override async catch(err: Error & { exitCode?: number }): Promise<void> {
    this.progress.stop();
    const e: RecallError = toRecallError(err, { command: this.id?.replaceAll(':', ' ') });
    const sig = stopSignal();
    // the job's own error (say, a DuckDB query cut short) after a signal is still the signal's exit
    process.exitCode = sig ? exitCodeOf(sig) : e.exit;
    if (sig || e.exit === ExitCode.Interrupted) removeInFlight();
    if (this.jsonEnabled()) {
      this.logJson({ error: e.toJSON() });
    } else {
      process.stderr.write(`recall: ${colourFor(process.stderr).red('error:')} ${e.oneLine()}\n`);
      if (this.verbose && err.stack) process.stderr.write(`${err.stack}\n`);
    }
  }

  override async finally(err: Error | undefined): Promise<void> {
    this.stopListening();
    this.progress.stop();
    if (!err && this.exitCode !== ExitCode.Ok) process.exitCode = this.exitCode;
    await super.finally(err);
  }

  /** Colours for stdout (verdicts): none unless a terminal, none with NO_COLOR. */
  protected get colour() {
    return colourFor(process.stdout);
  }

  /** A line of human output: a result (suppressed under --json). */
  protected say(line = ''): void {
    if (!this.jsonEnabled()) this.log(line);
  }

  /** A summary line ("N rows -> DIR (3.1 s)"): suppressed under --json and -q. */
  protected summary(line = ''): void {
    if (!this.jsonEnabled() && !this.quiet) this.log(line);
  }

  /** A note on stderr (timings, counts of skipped input): suppressed under --json and -q. */
  protected note(line: string): void {
    if (!this.jsonEnabled() && !this.quiet) process.stderr.write(`recall: ${line}\n`);
  }
}
