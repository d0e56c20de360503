/** A growable little-endian byte buffer. */
export class Bytes {
  buf = Buffer.allocUnsafe(1 << 16);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(x: number): void {
    this.room(1);
    this.buf[this.len++] = x & 0xff;
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
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
  /** What was written so far (a view, not a copy). */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}
