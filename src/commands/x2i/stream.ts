import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { exitCodeOf, stopSignal } from '../../cli/signals.js';
import { usage } from '../../core/errors.js';
import type { StreamResult } from '../../core/channels/x2i/stream.js';

/** "60s", "500ms", "5m", "1h", "2d" or plain seconds -> milliseconds. */
function durationMs(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m)
    throw usage('ERR_RECALL_USAGE', `--${flag} ${v} is not a duration`, {
      fix: 'write e.g. 500ms, 60s, 5m, 1h, 2d (plain numbers are seconds)',
    });
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

export default class X2iStream extends RecallCommand<StreamResult> {
  static override summary = 'Keep x2i lists fresh from a stream of interactions: incremental item-CF and Swing into the WAL.';
  static override description =
    `Continues the build of --index (built with build x2i --from-interactions; its algorithm, caps and top-k are read from the live version) from the state in --state (written by build x2i ... --keep-state DIR, or empty: the lists then come from the streamed interactions alone).
Each micro-batch updates the state (each user's distinct items, the same per-user cap as the build, item counts), recomputes only the lists the batch can change, and appends one x2i upsert per changed list to --wal, durably; queries with --wal and the next dump see them. Streaming batches B1..Bn gives the lists a build over all of them gives.
Sources: dir:PATH (parquet and JSON-lines files in name order; a batch is at most --max-batch-rows rows of one file; write files under a dot-prefixed name and rename them), - (JSON lines on stdin).
After every batch the state is checkpointed with the WAL seq and the source position (temp name + rename); every record carries the stream id and the batch's end position, so after a crash (kill -9) the stream replays from the checkpoint and does not append a record twice. One stream per state (a lock).
Bad rows (null user or item, malformed lines, times more than --allowed-lateness behind the latest applied) stop the stream with their position (--on-bad stop, exit 3; nothing of the batch is applied) or are skipped and counted (--on-bad skip).
--once processes what is available and exits; otherwise the source is polled every --every until SIGINT / SIGTERM (the batch in flight finishes). --json prints the status: batches (items touched, lists changed, seqs, latency from read to durable WAL records), source lag, last seq; the state folder holds status.json of the last batch.`;
  static override examples = [
    '<%= config.bin %> build x2i --from-interactions -i events/day1 --out out/x2i --algo swing --keep-state out/x2i-state',
    '<%= config.bin %> x2i stream --index out/x2i --wal out/wal --state out/x2i-state --source dir:events/incoming --every 60s',
    'cat new.jsonl | <%= config.bin %> x2i stream --index out/x2i --wal out/wal --state out/x2i-state --source - --once --json',
  ];
  static override flags = {
    index: Flags.string({
      description: 'x2i channel folder built from interactions (its live version gives the parameters)',
      required: true,
    }),
    wal: Flags.string({ description: 'WAL folder the changed lists are appended to (created if missing)', required: true }),
    state: Flags.string({ description: 'stream state folder (from --keep-state, or created empty)', required: true }),
    source: Flags.string({ description: 'dir:PATH or - (JSON lines on stdin)', required: true }),
    every: Flags.string({ description: 'poll interval when nothing is ready', default: '60s' }),
    once: Flags.boolean({ description: 'process what is available, then exit' }),
    'max-batch-rows': Flags.integer({ description: 'rows per micro-batch at most', default: 100_000, min: 1 }),
    'allowed-lateness': Flags.string({ description: 'rows whose time is further behind the latest applied time are bad (e.g. 1h)' }),
    'on-bad': Flags.option({
      options: ['stop', 'skip'] as const,
      description: 'a bad row stops the stream, or is skipped and counted',
      default: 'stop',
    })(),
    threads: Flags.integer({ description: 'threads recomputing lists (the result does not depend on it)', default: 2, min: 1 }),
  };

  async run(): Promise<StreamResult> {
    const { flags } = await this.parse(X2iStream);
    const { runStream } = await import('../../core/channels/x2i/stream.js');
    const { requirePath } = await import('../../core/io/paths.js');
    await requirePath(flags.index, 'folder', '--index');
    if (flags.source.startsWith('dir:')) await requirePath(flags.source.slice(4), 'folder', '--source dir:');
    const lateness = flags['allowed-lateness'];
    const r = await runStream(
      {
        index: flags.index,
        wal: flags.wal,
        state: flags.state,
        source: flags.source,
        everyMs: durationMs('every', flags.every),
        once: flags.once,
        maxBatchRows: flags['max-batch-rows'],
        allowedLatenessSeconds: lateness === undefined ? undefined : durationMs('allowed-lateness', lateness) / 1000,
        onBad: flags['on-bad'],
        threads: flags.threads,
      },
      {
        signal: this.signal,
        onBatch: (b) =>
          this.note(
            `batch ${b.batch}: ${b.rows} rows${b.bad ? ` (${b.bad} bad, skipped)` : ''}, ${b.itemsTouched} lists recomputed, ${b.listsChanged} changed -> ${b.lastSeq ? `seq ${b.firstSeq}..${b.lastSeq}` : 'no records'} in ${b.latencyMs} ms`,
          ),
        onBad: (b) => this.note(`skipped ${b.at}: ${b.reason}`),
        onResume: (p) =>
          this.note(
            `resuming: batch(es) ${p.join(', ')} are in the WAL after the checkpoint; replaying them (records already there are not appended again)`,
          ),
      },
    );
    if (r.recovered.batches)
      this.note(
        `replayed ${r.recovered.batches} batch(es) after the checkpoint; ${r.recovered.alreadyInWal} record(s) were already in the WAL and not appended again`,
      );
    this.summary(
      `x2i stream: ${r.totals.batches} batch(es), ${r.totals.rows} rows (${r.bad.count} bad), ${r.totals.listsChanged} lists changed, ${r.totals.records} records; last seq ${r.lastSeq}`,
    );
    const sig = stopSignal();
    if (sig) this.exitCode = exitCodeOf(sig) as typeof this.exitCode;
    return r;
  }
}
