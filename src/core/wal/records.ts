/**
 * WAL records on the TypeScript side: the op codes, and turning JSON lines
 * (or parquet rows shaped the same way) into encoded records, every line
 * checked before anything is appended. The payload of each channel is its
 * driver's record codec (core/channels/<kind>/records.ts).
 */
import type { RecordCodec, RecordFit, RecordWriter } from '../channels/driver.js';
import { type ChannelKind, opCode } from '../channels/kinds.js';
import { driverFor } from '../channels/registry.js';
import { Bytes } from '../io/bytes.js';
import { badInput } from '../errors.js';
import { recordStart } from '../io/records.js';
import { decodeUtf8Strict } from '../io/text.js';

/** Encoded records in the layout `walAppend` takes. */
export interface EncodedRecords {
  ops: Uint8Array;
  ends: Uint32Array;
  payloads: Uint8Array;
  upserts: number;
  deletes: number;
}

/** Where a record came from, for error messages: "FILE: line N" or "FILE: row N". */
export interface Origin {
  file: string;
  /** 1-based line of JSON lines, or 0-based row of parquet. */
  at: number;
  unit: 'line' | 'row';
}

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

export class RecordEncoder {
  private ops: number[] = [];
  private ends: number[] = [];
  private bytes = new Bytes();
  private readonly encode: ReturnType<RecordCodec['encoder']>;
  /** The record being encoded (for errors), and the one writer the codec gets for every record. */
  private origin: Origin = { file: '', at: 0, unit: 'line' };
  private readonly writer: RecordWriter = {
    bytes: this.bytes,
    key: (v, name) => this.key(this.origin, v, name),
    fail: (what, fix) => this.fail(this.origin, what, fix),
  };
  upserts = 0;
  deletes = 0;

  /** `fit`: what the records must fit (the WAL's binding, the index); it learns what the first record fixes. */
  constructor(
    readonly channel: ChannelKind,
    readonly fit: RecordFit = {},
  ) {
    this.encode = driverFor(channel).record.encoder(fit);
  }

  /** Records held (since the last `clear`). */
  get count(): number {
    return this.ops.length;
  }

  /** Bytes of payload held. */
  get bytesHeld(): number {
    return this.bytes.len;
  }

  /** Forget the records held (counts of upserts and deletes go on): the next batch starts empty. */
  clear(): void {
    this.ops.length = 0;
    this.ends.length = 0;
    this.bytes.len = 0;
  }

  private fail(o: Origin, what: string, fix: string): never {
    throw badInput('ERR_RECALL_BAD_RECORD', `${o.file}: ${o.unit} ${o.at}: ${what}`, {
      file: o.file,
      row: o.unit === 'row' ? o.at : o.at - 1,
      fix: `${fix}; nothing was appended`,
    });
  }

  /** An integer key or id (JSON number or decimal string), as its u64 two's-complement bits (a non-negative safe integer stays a number). */
  private key(o: Origin, v: unknown, name: string): bigint | number {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    let b: bigint | null = null;
    if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
    else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
    else if (typeof v === 'bigint') b = v;
    if (b === null || b < I64_MIN || b > U64_MAX) {
      this.fail(
        o,
        `"${name}" is ${JSON.stringify(v) ?? String(v)}, not a 64-bit integer`,
        `give "${name}" as an integer (a string for values beyond 2^53)`,
      );
    }
    return BigInt.asUintN(64, b);
  }

  private push(op: number): void {
    this.ops.push(op);
    this.ends.push(this.bytes.len);
    if (this.bytes.len > 0xffff_ffff)
      throw badInput('ERR_RECALL_TOO_LARGE', 'more than 4 GiB of records in one append', { fix: 'split the input' });
  }

  /** Check and encode one record object. */
  add(o: Origin, r: unknown): void {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) this.fail(o, 'not a JSON object', 'write one object per line');
    const rec = r as Record<string, unknown>;
    const op = rec.op;
    if (op !== 'upsert' && op !== 'delete') this.fail(o, `"op" is ${JSON.stringify(op) ?? 'missing'}`, 'set "op" to "upsert" or "delete"');
    const del = op === 'delete';
    this.origin = o;
    this.encode(this.writer, rec, del);
    if (del) this.deletes++;
    else this.upserts++;
    this.push(opCode(this.channel, del));
  }

  /** Records [from, to) in walAppend's layout. */
  slice(from = 0, to = this.ops.length): EncodedRecords {
    const start = recordStart(this.ends, from);
    const end = recordStart(this.ends, to);
    return {
      ops: Uint8Array.from(this.ops.slice(from, to)),
      ends: Uint32Array.from(this.ends.slice(from, to), (e) => e - start),
      payloads: this.bytes.buf.subarray(start, end),
      upserts: this.upserts,
      deletes: this.deletes,
    };
  }
}

/** A JSON line that does not parse: stop with its number. */
export function badJsonLine(file: string, line: number, e: unknown): never {
  throw badInput('ERR_RECALL_BAD_RECORD', `${file}: line ${line}: not valid JSON (${(e as Error).message})`, {
    file,
    row: line - 1,
    fix: 'fix the line; nothing was appended',
  });
}

/**
 * Call `visit` with every non-blank line of a stream of chunks (1-based line numbers), holding one
 * chunk and the line being read, never the whole input. A line split across chunks is joined once.
 */
export async function eachLine(chunks: AsyncIterable<Buffer>, label: string, visit: (text: string, line: number) => void): Promise<void> {
  // JSON lines are UTF-8: an invalid byte is refused with its line, never replaced by U+FFFD.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let carry: Buffer[] = [];
  let line = 0;
  let lineStart = 0;
  const emit = (b: Buffer) => {
    line++;
    let s: string;
    try {
      s = utf8.decode(b).trim();
    } catch {
      const bad = decodeUtf8Strict(b);
      const offset = lineStart + ('offset' in bad ? bad.offset : 0);
      throw badInput('ERR_RECALL_BAD_UTF8', `${label}: line ${line}: not valid UTF-8 (byte ${offset})`, {
        file: label,
        row: line - 1,
        offset,
        fix: 'repair or re-encode the file as UTF-8; nothing was appended',
      });
    }
    lineStart += b.length + 1;
    if (s) visit(s, line);
  };
  for await (const chunk of chunks) {
    let at = 0;
    for (let nl = chunk.indexOf(10, at); nl !== -1; nl = chunk.indexOf(10, at)) {
      emit(carry.length ? Buffer.concat([...carry, chunk.subarray(at, nl)]) : chunk.subarray(at, nl));
      carry = [];
      at = nl + 1;
    }
    if (at < chunk.length) carry.push(chunk.subarray(at));
  }
  if (carry.length) emit(Buffer.concat(carry));
}
