/**
 * `recall wal append`: read JSON lines (a file or stdin) or parquet rows and
 * append them to the WAL, in two streaming passes with bounded memory: the
 * first checks every record (against the WAL's channel binding and the index
 * given with --index) and appends nothing if one is bad; the second encodes
 * them again and appends them in batches (one group commit per batch with
 * `--fsync batch`). Stdin is spooled to a temp file during the first pass so
 * the second reads exactly what was checked.
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordFit } from '../channels/driver.js';
import { type ChannelKind, type ChannelName, channelName } from '../channels/kinds.js';
import { driverFor } from '../channels/registry.js';
import { badInput, ExitCode, RecallError } from '../errors.js';
import { newWalIdentity, readWalIdentity, WAL_IDENTITY_FILE, type WalBinding, writeWalIdentity } from '../index/wal-identity.js';
import { ident, literalList, openDuckDB, queryRows } from '../io/duckdb.js';
import { roundMs } from '../io/units.js';
import { loadNative, type WalFsync, type WalIssue } from '../native.js';
import { requirePath } from '../io/paths.js';
import { checkRowCount, describeInputs, expandInputs, readingParquet } from '../shard/inputs.js';
import { badJsonLine, eachLine, type Origin, RecordEncoder } from './records.js';

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
  /** Check the records against this index too (a channel, version folder or file), and bind the WAL to it. */
  index?: string;
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
  /** The WAL's id (wal.json), and what this channel's records must fit. */
  walId: string;
  binding: WalBinding;
  appendMs: number;
  recordsPerSecond: number;
}

/** Parquet: a .parquet file, a glob or a folder; anything else is JSON lines. */
const isParquet = async (input: string) =>
  /\.parquet$/i.test(input) || /[*?]/.test(input) || ((await stat(input).catch(() => null))?.isDirectory() ?? false);

/** Record objects of an input, in order, with their origin; one pass reads the input once. */
type Pass = (visit: (o: Origin, rec: unknown) => void) => Promise<void>;

/** JSON lines of a regular file, streamed. */
function jsonLinesPass(file: string, label: string): Pass {
  return async (visit) => {
    const chunks = createReadStream(file, { highWaterMark: 1 << 20 });
    await eachLine(chunks, label, (text, line) => {
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        badJsonLine(label, line, e);
      }
      visit({ file: label, at: line, unit: 'line' }, obj);
    });
  };
}

/** Parquet rows as record objects (the JSON-lines shape), streamed in DuckDB's chunks. */
function parquetPass(input: string, channel: ChannelKind, cols: NonNullable<AppendOptions['columns']>): Pass {
  return async (visit) => {
    const db = await openDuckDB({ threads: 1 });
    const c = await db.connect();
    try {
      const files = await expandInputs(c, [input]);
      const described = await describeInputs(c, files, { sameSchema: false }); // union_by_name reads them
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
      let row = 0;
      await readingParquet(c, files, async () => {
        const result = await c.stream(`SELECT ${opSql} AS op, ${select} FROM ${src}`);
        for await (const rows of result.yieldRowObjectJson()) {
          for (const r of rows as Record<string, unknown>[]) {
            codec.parquetRow?.(r);
            if (r.op === 'delete') r.neighbors = r.scores = r.vector = r.fields = undefined;
            visit({ file: input, at: row++, unit: 'row' }, r);
          }
        }
      });
      checkRowCount(described, row);
    } finally {
      c.closeSync();
      db.closeSync();
    }
  };
}

/** Stdin, copied to `spool` while the first pass reads it; later passes read the spool. */
function stdinPass(spool: string): Pass {
  let spooled = false;
  return async (visit) => {
    if (spooled) return jsonLinesPass(spool, 'stdin')(visit);
    const out = await open(spool, 'w');
    try {
      async function* tee(): AsyncGenerator<Buffer> {
        for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
          await out.write(chunk);
          yield chunk;
        }
      }
      await eachLine(tee(), 'stdin', (text, line) => {
        let obj: unknown;
        try {
          obj = JSON.parse(text);
        } catch (e) {
          badJsonLine('stdin', line, e);
        }
        visit({ file: 'stdin', at: line, unit: 'line' }, obj);
      });
    } finally {
      await out.close();
    }
    spooled = true;
  };
}

/** What this append's records must fit: the WAL's binding of the channel, then the index (which must agree). */
async function fitFor(o: AppendOptions, bound: WalBinding | undefined): Promise<RecordFit> {
  const fit: RecordFit = {};
  const walFile = join(o.wal, WAL_IDENTITY_FILE);
  if (bound?.dim) Object.assign(fit, { dim: bound.dim, dimFrom: `this WAL's vectors (${walFile})` });
  if (bound?.fields) Object.assign(fit, { fields: bound.fields, fieldsFrom: `this WAL's binding (${walFile})` });
  const fitOf = driverFor(o.channel).record.fitOf;
  if (o.index && fitOf) {
    const ix = await fitOf(o.index);
    if (ix.dim && fit.dim && ix.dim !== fit.dim) {
      throw badInput('ERR_RECALL_DIM_MISMATCH', `${o.wal}: this WAL's vectors have ${fit.dim} dimensions, the index ${o.index} ${ix.dim}`, {
        file: o.wal,
        fix: 'append to the WAL of this index (each WAL serves one vector dimension)',
      });
    }
    if (ix.dim) Object.assign(fit, { dim: ix.dim, dimFrom: `the index ${o.index}` });
    if (ix.fields) Object.assign(fit, { fields: ix.fields, fieldsFrom: `the index ${o.index}` });
  }
  return fit;
}

/** Encoded records per append call are also bounded in bytes, so a batch of large records stays small. */
const BATCH_BYTES = 8 << 20;

export async function appendWal(
  o: AppendOptions,
  hooks: { signal?: AbortSignal; onBatch?: (done: number, total: number) => void } = {},
): Promise<AppendResult> {
  if (existsSync(o.wal)) await requirePath(o.wal, 'folder', '--wal');
  const name = channelName(o.channel);
  const fit = await fitFor(o, (await readWalIdentity(o.wal))?.channels[name]);
  let spoolDir: string | null = null;
  try {
    let pass: Pass;
    if (o.input === '-') {
      spoolDir = await mkdtemp(join(tmpdir(), 'recall-append-'));
      pass = stdinPass(join(spoolDir, 'stdin.jsonl'));
    } else if (await isParquet(o.input)) pass = parquetPass(o.input, o.channel, o.columns ?? {});
    else {
      const st = await stat(o.input).catch((e: NodeJS.ErrnoException) => {
        throw badInput(
          e.code === 'ENOENT' ? 'ERR_RECALL_NO_SUCH_PATH' : 'ERR_RECALL_IO',
          `${o.input}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
          { file: o.input },
        );
      });
      if (!st.isFile())
        throw badInput('ERR_RECALL_IO', `${o.input}: not a regular file`, {
          file: o.input,
          fix: 'pass a JSON-lines file, - for stdin, or parquet',
        });
      pass = jsonLinesPass(o.input, o.input);
    }
    // 1. check everything, holding one batch of encoded bytes at most
    const check = new RecordEncoder(o.channel, fit);
    let seen = 0;
    await pass((origin, rec) => {
      if ((++seen & 4095) === 0) hooks.signal?.throwIfAborted(); // nothing appended yet: stop at once
      check.add(origin, rec);
      if (check.count >= 65536 || check.bytesHeld >= BATCH_BYTES) check.clear();
    });
    const total = check.upserts + check.deletes;
    hooks.signal?.throwIfAborted();
    // 2. take the writer lock, bind the WAL, append in batches
    const native = loadNative();
    const w = native.walOpen(o.wal, { fsync: o.fsync ?? 'batch', segmentBytes: o.segmentBytes });
    const batch = o.batch ?? 65536;
    let firstSeq = 0;
    let lastSeq = 0;
    let done = 0;
    let identity: Awaited<ReturnType<typeof readWalIdentity>>;
    const t0 = process.hrtime.bigint();
    try {
      // under the lock: the identity is created (or adopted by a WAL made before ids) and the binding recorded
      const existing = await readWalIdentity(o.wal);
      identity = existing ?? newWalIdentity(w.nextSeq - 1);
      const bound = identity.channels[name] ?? {};
      if (bound.dim && fit.dim && bound.dim !== fit.dim) {
        throw badInput('ERR_RECALL_DIM_MISMATCH', `${o.wal}: this WAL's vectors have ${bound.dim} dimensions, the input ${fit.dim}`, {
          file: o.input,
          fix: 'give every vector the index dimension; nothing was appended',
        });
      }
      const next: WalBinding = { ...bound, ...(fit.dim ? { dim: fit.dim } : {}), ...(o.index && fit.fields ? { fields: fit.fields } : {}) };
      if (!existing || !identity.channels[name] || JSON.stringify(next) !== JSON.stringify(bound)) {
        identity.channels[name] = next;
        await writeWalIdentity(o.wal, identity);
      }
      const enc = new RecordEncoder(o.channel, { ...fit });
      const flush = () => {
        if (enc.count === 0) return;
        const r = enc.slice();
        const s = native.walAppend(w.handle, r.ops, r.ends, r.payloads);
        firstSeq ||= s.first;
        lastSeq = s.last;
        done += enc.count;
        enc.clear();
        hooks.onBatch?.(done, total);
      };
      const stop = new Error('stop');
      await pass((origin, rec) => {
        if (hooks.signal?.aborted) throw stop; // what is appended stays: every batch is complete and durable
        try {
          enc.add(origin, rec);
        } catch (e) {
          throw new RecallError(
            'ERR_RECALL_INPUT_CHANGED',
            `${o.input}: changed between the check and the append: ${(e as Error).message}; ${done} records were appended${done ? ` (seq ${firstSeq}..${lastSeq})` : ''}`,
            { exit: ExitCode.BadInput, file: o.input, fix: 'do not change an input while it is appended; append the rest' },
          );
        }
        if (enc.count >= batch || enc.bytesHeld >= BATCH_BYTES) flush();
      }).catch((e) => {
        if (e !== stop) throw e;
      });
      if (!hooks.signal?.aborted) flush();
    } finally {
      native.walClose(w.handle);
    }
    const appendMs = roundMs(Number(process.hrtime.bigint() - t0) / 1e6);
    const records = lastSeq ? lastSeq - firstSeq + 1 : 0;
    if (hooks.signal?.aborted) {
      throw new RecallError(
        'ERR_RECALL_CANCELLED',
        `interrupted: ${records} of ${total} records were appended${records ? ` (seq ${firstSeq}..${lastSeq})` : ''}; appended batches are complete and durable`,
        {
          exit: ExitCode.Interrupted,
          fix: records ? `append the rest: the input's records after the first ${records}` : 'run it again',
        },
      );
    }
    if (records !== total) {
      throw new RecallError(
        'ERR_RECALL_INPUT_CHANGED',
        `${o.input}: ${total} records were checked, ${records} appended: the input changed`,
        {
          exit: ExitCode.BadInput,
          file: o.input,
          fix: 'do not change an input while it is appended',
        },
      );
    }
    return {
      wal: o.wal,
      channel: name,
      input: o.input,
      records,
      upserts: check.upserts,
      deletes: check.deletes,
      firstSeq,
      lastSeq,
      recovered: w.recovered,
      walId: identity.id,
      binding: identity.channels[name] ?? {},
      appendMs,
      recordsPerSecond: appendMs > 0 ? Math.round(records / (appendMs / 1000)) : 0,
    };
  } finally {
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  }
}
