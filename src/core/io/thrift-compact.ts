/**
 * Thrift's compact protocol, read into a generic tree and written back byte for byte: enough to
 * edit a parquet footer (shift offsets, join row-group lists) without a schema of every struct, so
 * fields this code does not know about survive unchanged. No npm package does this without
 * generated classes per struct, which would drop the fields they do not declare.
 */
import { Bytes } from './bytes.js';

/** Wire type codes (a struct field's boolean is its type: TRUE or FALSE). */
export const T = {
  TRUE: 1,
  FALSE: 2,
  I8: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
  UUID: 13,
} as const;

/**
 * A value: i8/i16/i32 as number, i64 as bigint, binary, double and uuid as their raw bytes, a
 * boolean field as boolean, a boolean list element as its raw byte.
 */
export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftStruct | ThriftList | ThriftMap;
export interface ThriftField {
  id: number;
  type: number;
  value: ThriftValue;
}
/** Fields in wire order. */
export type ThriftStruct = ThriftField[];
export interface ThriftList {
  elemType: number;
  items: ThriftValue[];
}
export interface ThriftMap {
  keyType: number;
  valueType: number;
  entries: Array<[ThriftValue, ThriftValue]>;
}

export class ThriftError extends Error {}

class Reader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new ThriftError(`truncated at byte ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw new ThriftError(`a ${n}-byte value at byte ${this.pos} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** An unsigned varint: a number while it fits in 53 bits (nearly always), else a bigint. */
  varint(): number | bigint {
    let out = 0;
    for (let shift = 0; shift < 49; shift += 7) {
      const b = this.byte();
      out += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return out;
    }
    let big = BigInt(out);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      const b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return BigInt.asUintN(64, big);
    }
    throw new ThriftError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  zigzag(): number | bigint {
    const u = this.varint();
    if (typeof u === 'bigint') return BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
    return u % 2 ? -(u + 1) / 2 : u / 2;
  }

  size(): number {
    const n = this.varint();
    if (n > this.buf.length) throw new ThriftError(`size ${n} at byte ${this.pos} is larger than the data`);
    return Number(n);
  }

  value(type: number, inList = false): ThriftValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return inList ? this.byte() : type === T.TRUE;
      case T.I8:
        return this.byte();
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return BigInt(this.zigzag());
      case T.DOUBLE:
        return this.bytes(8);
      case T.UUID:
        return this.bytes(16);
      case T.BINARY:
        return this.bytes(this.size());
      case T.LIST:
      case T.SET: {
        const h = this.byte();
        const n = h >> 4 === 15 ? this.size() : h >> 4;
        const elemType = h & 15;
        const items: ThriftValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.value(elemType, true));
        return { elemType, items };
      }
      case T.MAP: {
        const n = this.size();
        if (!n) return { keyType: 0, valueType: 0, entries: [] };
        const kv = this.byte();
        const m: ThriftMap = { keyType: kv >> 4, valueType: kv & 15, entries: [] };
        for (let i = 0; i < n; i++) m.entries.push([this.value(m.keyType, true), this.value(m.valueType, true)]);
        return m;
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new ThriftError(`unknown type ${type} at byte ${this.pos - 1}`);
    }
  }

  struct(): ThriftStruct {
    const fields: ThriftStruct = [];
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return fields;
      const type = h & 15;
      const id = h >> 4 ? last + (h >> 4) : Number(this.zigzag());
      fields.push({ id, type, value: this.value(type) });
      last = id;
    }
  }
}

class Writer {
  private readonly out = new Bytes();

  byte(b: number): void {
    this.out.u8(b);
  }

  bytes(b: Uint8Array): void {
    this.out.raw(b);
  }

  varint(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.byte(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.byte(Number(u));
  }

  zigzag(v: bigint): void {
    this.varint((v << 1n) ^ (v >> 63n));
  }

  value(type: number, v: ThriftValue, inList = false): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        if (inList) this.byte(v as number);
        return; // a field's boolean is in its header
      case T.I8:
        this.byte(v as number);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(v as number));
        return;
      case T.I64:
        this.zigzag(v as bigint);
        return;
      case T.DOUBLE:
      case T.UUID:
        this.bytes(v as Uint8Array);
        return;
      case T.BINARY:
        this.varint(BigInt((v as Uint8Array).length));
        this.bytes(v as Uint8Array);
        return;
      case T.LIST:
      case T.SET: {
        const l = v as ThriftList;
        if (l.items.length < 15) this.byte((l.items.length << 4) | l.elemType);
        else {
          this.byte(0xf0 | l.elemType);
          this.varint(BigInt(l.items.length));
        }
        for (const item of l.items) this.value(l.elemType, item, true);
        return;
      }
      case T.MAP: {
        const m = v as ThriftMap;
        this.varint(BigInt(m.entries.length));
        if (!m.entries.length) return;
        this.byte((m.keyType << 4) | m.valueType);
        for (const [k, x] of m.entries) {
          this.value(m.keyType, k, true);
          this.value(m.valueType, x, true);
        }
        return;
      }
      case T.STRUCT:
        this.struct(v as ThriftStruct);
        return;
      default:
        throw new ThriftError(`unknown type ${type}`);
    }
  }

  struct(s: ThriftStruct): void {
    let last = 0;
    for (const f of s) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag(BigInt(f.id));
      }
      this.value(type, f.value);
      last = f.id;
    }
    this.byte(0);
  }

  done(): Uint8Array {
    return this.out.view();
  }
}

/** The struct that starts at `start`, and the byte after it. */
export function readStruct(buf: Uint8Array, start = 0): { struct: ThriftStruct; end: number } {
  const r = new Reader(buf, start);
  const struct = r.struct();
  return { struct, end: r.pos };
}

export function writeStruct(s: ThriftStruct): Uint8Array {
  const w = new Writer();
  w.struct(s);
  return w.done();
}

/** The field with this id, if present. */
export const field = (s: ThriftStruct, id: number): ThriftField | undefined => s.find((f) => f.id === id);
