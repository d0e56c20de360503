/**
 * Sources of `recall x2i stream`: interaction rows in micro-batches with the position after each
 * batch, so a stream resumes (and replays) from a recorded position. `dir:PATH` reads parquet and
 * JSON-lines files in name order (a file is read once it appears under its final name: writers use a
 * dot-prefixed or `.tmp` name and rename); `-` reads JSON lines from stdin; `kafka://` a topic.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { badInput, usage } from '../../errors.js';
import { ident, literal, openDuckDB, queryRows } from '../../io/duckdb.js';

/** The interaction columns a stream reads (the base index's `params.columns`). */
export interface StreamColumns {
  user: string;
  item: string;
  ts: string | null;
  weight: string | null;
  actionWeights: Record<string, number> | null;
  action?: string;
}

/** Where a source is: the files before `file` and its first `row` rows are read; stdin: `row` lines; Kafka: offsets. */
export interface SourcePosition {
  file?: string;
  row?: number;
  offsets?: Record<string, string>;
}

/** One parsed row, or why it is bad. */
export type RawRow = { user: string; item: bigint; ts: number; w: number } | { bad: string };

export interface RawBatch {
  rows: RawRow[];
  /** Position of each row ("file: row N", "stdin: line N", "partition P offset O"). */
  at: (k: number) => string;
  start: SourcePosition;
  end: SourcePosition;
}

export interface StreamSource {
  /** dir, stdin or kafka: the checkpoint keeps one position per kind. */
  readonly kind: string;
  readonly label: string;
  /** The next batch after `from` (at most `maxRows` rows, ending exactly at `until` when given), or null when nothing is ready. */
  next(from: SourcePosition, maxRows: number, until?: SourcePosition): Promise<RawBatch | null>;
  /** What is ready but not yet read after `from`. */
  lag(from: SourcePosition): Promise<Record<string, number>>;
  /** The batch ending at `end` is durable in the WAL (Kafka commits its offsets here). */
  durable?(end: SourcePosition): Promise<void>;
  close(): Promise<void>;
}

const U32_MAX = 4294967295;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** One JSON object -> a row, checked as the batch build checks its input. */
export function parseRow(o: unknown, cols: StreamColumns): RawRow {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { bad: 'not a JSON object' };
  const r = o as Record<string, unknown>;
  const u = r[cols.user];
  if (u === null || u === undefined) return { bad: `null user "${cols.user}"` };
  if (typeof u === 'object') return { bad: `user "${cols.user}" is not a string or number` };
  const iv = r[cols.item];
  if (iv === null || iv === undefined) return { bad: `null item "${cols.item}"` };
  let item: bigint;
  try {
    if (typeof iv === 'number' && !Number.isSafeInteger(iv)) throw new Error();
    if (typeof iv !== 'number' && typeof iv !== 'string' && typeof iv !== 'bigint') throw new Error();
    item = BigInt(iv);
  } catch {
    return { bad: `item "${cols.item}" is ${JSON.stringify(iv)}, not an integer (x2i items are int64; beyond 2^53 give a string)` };
  }
  if (item < I64_MIN || item > I64_MAX) return { bad: `item "${cols.item}" does not fit in int64` };
  let ts = 0;
  if (cols.ts) {
    const t = r[cols.ts];
    const sec = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) / 1000 : Number.NaN;
    ts = Math.round(sec);
    if (!Number.isFinite(sec) || ts < 0 || ts > U32_MAX)
      return { bad: `null or out-of-range time in "${cols.ts}" (seconds since 1970 up to 2106, or an ISO date)` };
  }
  let w = 1;
  if (cols.weight) {
    const x = r[cols.weight];
    w = typeof x === 'number' ? Math.fround(x) : Number.NaN;
    if (!(w > 0) || !Number.isFinite(w)) return { bad: `a null, NaN or non-positive weight in "${cols.weight}"` };
  } else if (cols.actionWeights) {
    const a = r[cols.action ?? 'action'];
    const x = typeof a === 'string' ? cols.actionWeights[a] : undefined;
    if (x === undefined) return { bad: `an action with no weight in the action weights` };
    w = Math.fround(x);
  }
  return { user: String(u), item, ts, w };
}

const DATA_FILE = /\.(parquet|jsonl|ndjson|json)$/;

/** Parquet rows as JSON-like objects with the stream's columns (values as text where precision matters). */
async function parquetRows(path: string, cols: StreamColumns): Promise<Record<string, unknown>[]> {
  const db = await openDuckDB({ threads: 1 });
  const c = await db.connect();
  try {
    const schema = await queryRows<{ column_name: string; column_type: string }>(
      c,
      `DESCRIBE SELECT * FROM read_parquet(${literal(path)})`,
    );
    const type = (n: string | null) => schema.find((s) => s.column_name === n)?.column_type;
    const sel = [`${ident(cols.user)}::VARCHAR AS ${ident(cols.user)}`, `${ident(cols.item)}::VARCHAR AS ${ident(cols.item)}`];
    if (cols.ts)
      sel.push(
        `(${/^TIMESTAMP|^DATE/.test(type(cols.ts) ?? '') ? `epoch(${ident(cols.ts)})` : ident(cols.ts)})::DOUBLE AS ${ident(cols.ts)}`,
      );
    if (cols.weight) sel.push(`${ident(cols.weight)}::DOUBLE AS ${ident(cols.weight)}`);
    if (cols.actionWeights) sel.push(`${ident(cols.action ?? 'action')}::VARCHAR AS ${ident(cols.action ?? 'action')}`);
    for (const n of [cols.user, cols.item, cols.ts, cols.weight]) {
      if (n && !type(n))
        throw badInput(
          'ERR_RECALL_NO_SUCH_COLUMN',
          `${path}: no column "${n}"; columns are ${schema.map((s) => s.column_name).join(', ')}`,
          {
            file: path,
            fix: 'write the columns the base index was built from',
          },
        );
    }
    return await queryRows(c, `SELECT ${sel.join(', ')} FROM read_parquet(${literal(path)}) ORDER BY file_row_number`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** JSON lines of a file, each parsed (or the parse error). */
async function jsonLines(path: string): Promise<(unknown | { malformed: string })[]> {
  const out: unknown[] = [];
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    if (line.trim() === '') {
      out.push({ malformed: 'an empty line' });
      continue;
    }
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      out.push({ malformed: `malformed JSON (${(e as Error).message})` });
    }
  }
  return out;
}

function toRow(o: unknown, cols: StreamColumns): RawRow {
  if (o && typeof o === 'object' && 'malformed' in o && Object.keys(o).length === 1)
    return { bad: String((o as { malformed: string }).malformed) };
  return parseRow(o, cols);
}

export class DirSource implements StreamSource {
  readonly kind = 'dir';
  private cache: { file: string; size: number; mtimeMs: number; rows: RawRow[] } | null = null;
  constructor(
    readonly dir: string,
    readonly cols: StreamColumns,
  ) {}
  get label() {
    return `dir:${this.dir}`;
  }

  private async files(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((n) => !n.startsWith('.') && DATA_FILE.test(n)).sort();
  }

  private async rowsOf(file: string): Promise<RawRow[]> {
    const path = join(this.dir, file);
    const st = await stat(path);
    if (this.cache?.file === file && this.cache.size === st.size && this.cache.mtimeMs === st.mtimeMs) return this.cache.rows;
    const raw = file.endsWith('.parquet') ? await parquetRows(path, this.cols) : await jsonLines(path);
    const rows = raw.map((o) => toRow(o, this.cols));
    this.cache = { file, size: st.size, mtimeMs: st.mtimeMs, rows };
    return rows;
  }

  /** The file to read after `from`, and the row to start at. */
  private async cursor(from: SourcePosition): Promise<{ file: string; row: number } | null> {
    const files = await this.files();
    if (from.file !== undefined && files.includes(from.file)) {
      const rows = await this.rowsOf(from.file);
      if ((from.row ?? 0) < rows.length) return { file: from.file, row: from.row ?? 0 };
    }
    const next = files.find((f) => from.file === undefined || f > from.file);
    return next === undefined ? null : { file: next, row: 0 };
  }

  async next(from: SourcePosition, maxRows: number, until?: SourcePosition): Promise<RawBatch | null> {
    const c = await this.cursor(from);
    if (!c) return null;
    const all = await this.rowsOf(c.file);
    const stop = until?.file === c.file && until.row !== undefined ? until.row : Math.min(all.length, c.row + maxRows);
    const file = join(this.dir, c.file);
    return {
      rows: all.slice(c.row, stop),
      at: (k) => `${file}: ${c.file.endsWith('.parquet') ? `row ${c.row + k}` : `line ${c.row + k + 1}`}`,
      start: { file: c.file, row: c.row },
      end: { file: c.file, row: stop },
    };
  }

  async lag(from: SourcePosition): Promise<Record<string, number>> {
    const files = await this.files();
    const pending = files.filter((f) => from.file === undefined || f > from.file);
    let rows = 0;
    if (from.file !== undefined && files.includes(from.file)) rows += Math.max(0, (await this.rowsOf(from.file)).length - (from.row ?? 0));
    return { files: pending.length + (rows > 0 ? 1 : 0), rowsInCurrentFile: rows };
  }

  async close() {}
}

/** JSON lines on stdin; positions count the lines of this run. */
export class StdinSource implements StreamSource {
  readonly kind = 'stdin';
  readonly label = 'stdin';
  private lines: string[] = [];
  private read = 0;
  private ended = false;
  private waiters: (() => void)[] = [];
  constructor(readonly cols: StreamColumns) {
    const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    rl.on('line', (l) => {
      this.lines.push(l);
      this.wake();
    });
    rl.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  get done() {
    return this.ended && this.lines.length === 0;
  }
  /** Wait for a line or the end of input, at most `ms`. */
  async wait(ms: number): Promise<void> {
    if (this.lines.length || this.ended) return;
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }
  async next(_from: SourcePosition, maxRows: number, until?: SourcePosition): Promise<RawBatch | null> {
    const n = Math.min(this.lines.length, until?.row !== undefined ? until.row - this.read : maxRows);
    if (n <= 0) return null;
    const start = this.read;
    const rows = this.lines.splice(0, n).map((l) => {
      try {
        return parseRow(JSON.parse(l), this.cols);
      } catch (e) {
        return { bad: l.trim() === '' ? 'an empty line' : `malformed JSON (${(e as Error).message})` };
      }
    });
    this.read += n;
    return { rows, at: (k) => `stdin: line ${start + k + 1}`, start: { row: start }, end: { row: start + n } };
  }
  async lag(): Promise<Record<string, number>> {
    return { lines: this.lines.length };
  }
  async close() {
    process.stdin.destroy();
  }
}

/**
 * `kafka://HOST:PORT[,HOST:PORT...]/TOPIC?group=G` through kafkajs. Each message is one JSON
 * interaction. Messages are buffered per partition; a batch takes them in partition order and
 * ends at an offset per partition, so a replay takes exactly the same messages. The stream's
 * checkpoint holds the offsets it resumes from (it seeks there); the group's offsets are
 * committed only once a batch's WAL records are durable (`durable`), for tools that watch the group.
 */
export class KafkaSource implements StreamSource {
  readonly kind = 'kafka';
  readonly label: string;
  private readonly brokers: string[];
  private readonly topic: string;
  private readonly group: string;
  private queues = new Map<number, { offset: bigint; value: Buffer | null }[]>();
  private consumer: import('kafkajs').Consumer | null = null;
  private admin: import('kafkajs').Admin | null = null;
  private waiters: (() => void)[] = [];
  private started: Promise<void> | null = null;
  private fail: Error | null = null;

  constructor(
    spec: string,
    readonly cols: StreamColumns,
    readonly maxBuffered = 200_000,
  ) {
    const m = /^kafka:\/\/([^/]+)\/([^?]+)\?(.*)$/.exec(spec);
    const group = m ? new URLSearchParams(m[3]).get('group') : null;
    if (!m || !group)
      throw usage('ERR_RECALL_USAGE', `--source ${spec}: expected kafka://HOST:PORT/TOPIC?group=G`, {
        fix: 'name the brokers, the topic and the consumer group',
      });
    this.brokers = m[1]!.split(',');
    this.topic = decodeURIComponent(m[2]!);
    this.group = group;
    this.label = spec;
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  private buffered(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private async start(from: SourcePosition): Promise<void> {
    const { Kafka, logLevel } = (await import('kafkajs')).default;
    const kafka = new Kafka({ clientId: 'recall-x2i-stream', brokers: this.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
    this.admin = kafka.admin();
    await this.admin.connect();
    // short session and fetch waits: a stream killed with -9 is replaced within seconds, and closing does not wait out a long poll
    const consumer = kafka.consumer({
      groupId: this.group,
      sessionTimeout: 3000,
      heartbeatInterval: 300,
      rebalanceTimeout: 3000,
      maxWaitTimeInMs: 250,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const q = this.queues.get(batch.partition) ?? [];
        this.queues.set(batch.partition, q);
        const low = BigInt(from.offsets?.[String(batch.partition)] ?? '0');
        const last = q.length ? q[q.length - 1]!.offset : -1n;
        for (const m of batch.messages) {
          const o = BigInt(m.offset);
          if (o >= low && o > last) q.push({ offset: o, value: m.value });
        }
        this.wake();
        // back-pressure: the next fetch waits until the stream has taken most of what is buffered
        while (this.buffered() > this.maxBuffered) {
          await new Promise<void>((r) => this.waiters.push(r));
          await heartbeat();
        }
      },
    });
    await joined;
    // resume where the checkpoint says (the group's committed offsets may be behind it, never ahead)
    for (const [p, o] of Object.entries(from.offsets ?? {})) consumer.seek({ topic: this.topic, partition: Number(p), offset: o });
    consumer.on(consumer.events.CRASH, (e) => {
      this.fail = e.payload.error;
      this.wake();
    });
  }

  /** Messages not yet read after `from`, per the partitions' high watermarks. */
  private async behind(from: SourcePosition): Promise<number> {
    const marks = await this.admin!.fetchTopicOffsets(this.topic);
    let n = 0;
    for (const m of marks) {
      const at = BigInt(from.offsets?.[String(m.partition)] ?? m.low);
      n += Math.max(0, Number(BigInt(m.high) - at));
    }
    return n;
  }

  async next(from: SourcePosition, maxRows: number, until?: SourcePosition): Promise<RawBatch | null> {
    this.started ??= this.start(from);
    await this.started;
    const offsets: Record<string, string> = { ...(from.offsets ?? {}) };
    const pos = (p: number) => BigInt(offsets[String(p)] ?? '0');
    const ready = () => {
      for (const [p, q] of this.queues) while (q.length && q[0]!.offset < pos(p)) q.shift();
      if (!until?.offsets) return this.buffered() > 0;
      return Object.entries(until.offsets).every(([p, end]) => {
        const q = this.queues.get(Number(p)) ?? [];
        return BigInt(end) <= pos(Number(p)) || (q.length > 0 && q[q.length - 1]!.offset >= BigInt(end) - 1n);
      });
    };
    // wait for what is there to arrive (a replay waits for its whole range)
    const deadline = Date.now() + 15_000;
    while (!ready() && !this.fail && Date.now() < deadline) {
      if (!until && (await this.behind(from)) === 0) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    if (this.fail) throw this.fail;
    const rows: RawRow[] = [];
    const where: string[] = [];
    for (const [p, q] of [...this.queues.entries()].sort((a, b) => a[0] - b[0])) {
      while (q.length && q[0]!.offset < pos(p)) q.shift();
      const end = until?.offsets ? BigInt(until.offsets[String(p)] ?? String(pos(p))) : null;
      while (q.length && (end === null ? rows.length < maxRows : q[0]!.offset < end)) {
        const m = q.shift()!;
        let row: RawRow;
        try {
          row = parseRow(JSON.parse(m.value?.toString('utf8') ?? 'null'), this.cols);
        } catch (e) {
          row = { bad: `malformed JSON (${(e as Error).message})` };
        }
        rows.push(row);
        where.push(`kafka ${this.topic}: partition ${p} offset ${m.offset}`);
        offsets[String(p)] = String(m.offset + 1n);
      }
    }
    this.wake();
    if (!rows.length) return null;
    return { rows, at: (k) => where[k]!, start: { offsets: { ...(from.offsets ?? {}) } }, end: { offsets } };
  }

  async lag(from: SourcePosition): Promise<Record<string, number>> {
    return this.admin ? { messages: await this.behind(from) } : {};
  }

  async durable(end: SourcePosition): Promise<void> {
    if (!this.consumer || !end.offsets) return;
    await this.consumer.commitOffsets(
      Object.entries(end.offsets).map(([p, offset]) => ({ topic: this.topic, partition: Number(p), offset })),
    );
  }

  async close(): Promise<void> {
    this.wake();
    await this.consumer?.disconnect().catch(() => {});
    await this.admin?.disconnect().catch(() => {});
  }
}
