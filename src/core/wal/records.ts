/**
 * WAL records on the TypeScript side: the op codes, and turning JSON lines
 * (or parquet rows shaped the same way) into encoded records, every line
 * checked before anything is appended. Payloads (native/core/src/wal/mod.rs):
 * x2i upsert `i64 key, u32 n, n × u64 item, n × f32 score`; vector upsert
 * `u64 id, u32 dim, dim × f32`; inverted upsert `u32 id bytes, id, fields JSON`;
 * a delete is the key / id alone.
 */
import { type ChannelKind, opCode } from '../channels/kinds.js';
import { badInput } from '../errors.js';


/** Encoded records in the layout `walAppend` takes. */
export interface EncodedRecords {
  ops: Uint8Array;
  ends: Uint32Array;
  payloads: Uint8Array;
  upserts: number;
  deletes: number;
}

/** A growable little-endian byte buffer. */
class Bytes {
  buf = Buffer.allocUnsafe(1 << 16);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u32(x: number): void {
    this.room(4);
    this.buf.writeUInt32LE(x, this.len);
    this.len += 4;
  }
  /** A u64 given as its bits (bigint) or as a non-negative safe integer (no BigInt on the common path). */
  u64(x: bigint | number): void {
    this.room(8);
    if (typeof x === 'number') {
      this.buf.writeUInt32LE(x % 0x1_0000_0000, this.len);
      this.buf.writeUInt32LE(Math.floor(x / 0x1_0000_0000), this.len + 4);
    } else this.buf.writeBigUInt64LE(x, this.len);
    this.len += 8;
  }
  f32(x: number): void {
    this.room(4);
    this.buf.writeFloatLE(x, this.len);
    this.len += 4;
  }
  utf8(s: string): void {
    const n = Buffer.byteLength(s);
    this.room(n);
    this.buf.write(s, this.len, 'utf8');
    this.len += n;
  }
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
  private dim = 0;
  upserts = 0;
  deletes = 0;

  constructor(readonly channel: ChannelKind) {}

  get count(): number {
    return this.ops.length;
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
      this.fail(o, `"${name}" is ${JSON.stringify(v) ?? String(v)}, not a 64-bit integer`, `give "${name}" as an integer (a string for values beyond 2^53)`);
    }
    return BigInt.asUintN(64, b);
  }

  private push(op: number): void {
    this.ops.push(op);
    this.ends.push(this.bytes.len);
    if (this.bytes.len > 0xffff_ffff) throw badInput('ERR_RECALL_TOO_LARGE', 'more than 4 GiB of records in one append', { fix: 'split the input' });
  }

  /** Check and encode one record object. */
  add(o: Origin, r: unknown): void {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) this.fail(o, 'not a JSON object', 'write one object per line');
    const rec = r as Record<string, unknown>;
    const op = rec.op;
    if (op !== 'upsert' && op !== 'delete') this.fail(o, `"op" is ${JSON.stringify(op) ?? 'missing'}`, 'set "op" to "upsert" or "delete"');
    const del = op === 'delete';
    const b = this.bytes;
    if (this.channel === 'x2i') {
      const key = this.key(o, rec.key, 'key');
      if (del) {
        b.u64(key);
      } else {
        const { neighbors: n, scores: s } = rec;
        if (!Array.isArray(n) || !Array.isArray(s)) this.fail(o, 'an x2i upsert needs "neighbors" and "scores" arrays', 'add both lists');
        if (n.length !== s.length) this.fail(o, `"neighbors" has ${n.length} items and "scores" ${s.length}`, 'give one score per neighbor');
        const items = n.map((x) => this.key(o, x, 'neighbors[]'));
        s.forEach((x, i) => {
          if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(o, `scores[${i}] is ${JSON.stringify(x)}, not a finite number`, 'fix the score');
        });
        b.u64(key);
        b.u32(items.length);
        for (const x of items) b.u64(x);
        for (const x of s as number[]) b.f32(x);
      }
    } else if (this.channel === 'vector') {
      const id = this.key(o, rec.id, 'id');
      b.u64(id);
      if (!del) {
        const v = rec.vector;
        if (!Array.isArray(v) || v.length === 0) this.fail(o, 'a vector upsert needs a non-empty "vector" array', 'add the embedding');
        if (this.dim && v.length !== this.dim) this.fail(o, `"vector" has ${v.length} dimensions, earlier records ${this.dim}`, 'give every vector the index dimension');
        this.dim = v.length;
        b.u32(v.length);
        v.forEach((x, i) => {
          if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(o, `vector[${i}] is ${JSON.stringify(x)}, not a finite number`, 'fix the embedding');
          b.f32(x);
        });
      }
    } else {
      const id = rec.id;
      if (!((typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length > 0))) {
        this.fail(o, `"id" is ${JSON.stringify(id) ?? 'missing'}`, 'give "id" as an integer or a non-empty string');
      }
      const idText = String(id);
      if (del) {
        b.utf8(idText);
      } else {
        const f = rec.fields;
        if (typeof f !== 'object' || f === null || Array.isArray(f) || Object.keys(f).length === 0) this.fail(o, 'an inverted upsert needs a "fields" object', 'add e.g. {"body": "..."}');
        for (const [name, v] of Object.entries(f)) {
          if (typeof v !== 'string' && v !== null) this.fail(o, `field "${name}" is ${typeof v}, not text`, 'give each field as a string (or null)');
        }
        b.u32(Buffer.byteLength(idText));
        b.utf8(idText);
        b.utf8(JSON.stringify(f));
      }
    }
    if (del) this.deletes++;
    else this.upserts++;
    this.push(opCode(this.channel, del));
  }

  /** Records [from, to) in walAppend's layout. */
  slice(from = 0, to = this.ops.length): EncodedRecords {
    const start = from === 0 ? 0 : this.ends[from - 1];
    const end = to === 0 ? 0 : this.ends[to - 1];
    return {
      ops: Uint8Array.from(this.ops.slice(from, to)),
      ends: Uint32Array.from(this.ends.slice(from, to), (e) => e - start),
      payloads: this.bytes.buf.subarray(start, end),
      upserts: this.upserts,
      deletes: this.deletes,
    };
  }
}

/** Parse JSON lines into `enc`; a bad line stops with its number. */
export function encodeJsonLines(text: string, file: string, enc: RecordEncoder): void {
  let line = 0;
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    line++;
    const s = text.slice(at, nl).trim();
    at = nl + 1;
    if (!s) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(s);
    } catch (e) {
      throw badInput('ERR_RECALL_BAD_RECORD', `${file}: line ${line}: not valid JSON (${(e as Error).message})`, { file, row: line - 1, fix: 'fix the line; nothing was appended' });
    }
    enc.add({ file, at: line, unit: 'line' }, obj);
  }
}
