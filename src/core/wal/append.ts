/**
 * `recall wal append`: read JSON lines (a file or stdin) or parquet rows,
 * check and encode every record, then append them to the WAL in batches
 * (one group commit per batch with `--fsync batch`). Nothing is appended
 * unless every record is valid.
 */
import { readFile, stat } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { badInput, ExitCode, RecallError } from '../errors.js';
import { ident, literalList, openDuckDB, queryRows } from '../io/duckdb.js';
import { roundMs } from '../io/units.js';
import { loadNative, type WalFsync, type WalIssue } from '../native.js';
import { expandInputs } from '../shard/inputs.js';
import { type ChannelKind, type ChannelName, channelName } from '../channels/kinds.js';
import { driverFor } from '../channels/registry.js';
import { encodeJsonLines, RecordEncoder } from './records.js';

export interface AppendOptions {
  wal: string;
  channel: ChannelKind;
  /** A JSON-lines file, `-` for stdin, or parquet files / folders / globs. */
  input: string;
  fsync?: WalFsync;
  segmentBytes?: number;
  /** Parquet column names (defaults: op, key, neighbors, scores, id, vector; inverted: every other text column). */
  columns?: { op?: string; key?: string; neighbors?: string; scores?: string; id?: string; vector?: string; text?: string[] };
  /** Records per append call (one fsync each with `batch`). */
  batch?: number;
}

export interface AppendResult {
  wal: string;
  /** The channel's name as users give it (`inverted` for text). */
  channel: ChannelName;
  input: string;
  records: number;
  upserts: number;
  deletes: number;
  firstSeq: number;
  lastSeq: number;
  /** A torn tail the writer cut off when it opened the WAL. */
  recovered: WalIssue | null;
  appendMs: number;
  recordsPerSecond: number;
}

/** Parquet: a .parquet file, a glob or a folder; anything else is JSON lines. */
const isParquet = async (input: string) =>
  /\.parquet$/i.test(input) || /[*?]/.test(input) || ((await stat(input).catch(() => null))?.isDirectory() ?? false);

/** Parquet rows as record objects (the JSON-lines shape), each checked with its row number. */
async function encodeParquet(
  input: string,
  channel: ChannelKind,
  cols: NonNullable<AppendOptions['columns']>,
  enc: RecordEncoder,
): Promise<void> {
  const db = await openDuckDB({ threads: 1 });
  const c = await db.connect();
  try {
    const files = await expandInputs(c, [input]);
    const src = `read_parquet(${literalList(files)}, union_by_name = true)`;
    const schema = await queryRows<{ column_name: string; column_type: string }>(c, `DESCRIBE SELECT * FROM ${src}`);
    const names = schema.map((s) => s.column_name);
    const need = (name: string, flag: string) => {
      if (!names.includes(name)) {
        throw badInput('ERR_RECALL_NO_SUCH_COLUMN', `${input}: no column "${name}"; columns are ${names.join(', ')}`, {
          file: input,
          fix: `pass --${flag}`,
        });
      }
      return name;
    };
    const op = cols.op ?? 'op';
    const opSql = names.includes(op) ? ident(op) : `'upsert'`;
    const textColumns = (id: string) => {
      const text =
        cols.text ??
        schema.filter((s) => s.column_type === 'VARCHAR' && s.column_name !== id && s.column_name !== op).map((s) => s.column_name);
      if (text.length === 0)
        throw badInput('ERR_RECALL_NO_SUCH_COLUMN', `${input}: no text columns besides "${id}"`, { file: input, fix: 'pass --text' });
      return text;
    };
    const codec = driverFor(channel).record;
    const select = codec.parquetSelect(cols, need, textColumns);
    const rows = await queryRows<Record<string, unknown>>(c, `SELECT ${opSql} AS op, ${select} FROM ${src}`);
    rows.forEach((r, row) => {
      codec.parquetRow?.(r);
      if (r.op === 'delete') r.neighbors = r.scores = r.vector = r.fields = undefined;
      enc.add({ file: input, at: row, unit: 'row' }, r);
    });
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

export async function appendWal(
  o: AppendOptions,
  hooks: { signal?: AbortSignal; onBatch?: (done: number, total: number) => void } = {},
): Promise<AppendResult> {
  const enc = new RecordEncoder(o.channel);
  // 1. read and check everything
  if (o.input === '-') encodeJsonLines(await text(process.stdin), 'stdin', enc);
  else if (await isParquet(o.input)) await encodeParquet(o.input, o.channel, o.columns ?? {}, enc);
  else {
    const raw = await readFile(o.input, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw badInput(
        e.code === 'ENOENT' ? 'ERR_RECALL_NO_SUCH_PATH' : 'ERR_RECALL_IO',
        `${o.input}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
        { file: o.input },
      );
    });
    encodeJsonLines(raw, o.input, enc);
  }
  hooks.signal?.throwIfAborted();
  // 2. append in batches
  const native = loadNative();
  const w = native.walOpen(o.wal, { fsync: o.fsync ?? 'batch', segmentBytes: o.segmentBytes });
  const batch = o.batch ?? 65536;
  let firstSeq = 0;
  let lastSeq = 0;
  const t0 = process.hrtime.bigint();
  try {
    for (let from = 0; from < enc.count; from += batch) {
      if (hooks.signal?.aborted) break; // what is appended stays: every batch is complete and durable
      const r = enc.slice(from, Math.min(enc.count, from + batch));
      const s = native.walAppend(w.handle, r.ops, r.ends, r.payloads);
      firstSeq ||= s.first;
      lastSeq = s.last;
      hooks.onBatch?.(Math.min(enc.count, from + batch), enc.count);
    }
  } finally {
    native.walClose(w.handle);
  }
  const appendMs = roundMs(Number(process.hrtime.bigint() - t0) / 1e6);
  const records = lastSeq ? lastSeq - firstSeq + 1 : 0;
  if (hooks.signal?.aborted) {
    throw new RecallError(
      'ERR_RECALL_CANCELLED',
      `interrupted: ${records} of ${enc.count} records were appended${records ? ` (seq ${firstSeq}..${lastSeq})` : ''}; appended batches are complete and durable`,
      {
        exit: ExitCode.Interrupted,
        fix: records ? `append the rest: the input's records after the first ${records}` : 'run it again',
      },
    );
  }
  return {
    wal: o.wal,
    channel: channelName(o.channel),
    input: o.input,
    records,
    upserts: enc.upserts,
    deletes: enc.deletes,
    firstSeq,
    lastSeq,
    recovered: w.recovered,
    appendMs,
    recordsPerSecond: appendMs > 0 ? Math.round(records / (appendMs / 1000)) : 0,
  };
}
