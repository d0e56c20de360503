// Byte-level helpers for index files (layout: native/core/src/container/mod.rs) used by fault tests.
import CRC32C from 'crc-32/crc32c.js';

export const crc32c = (bytes) => CRC32C.buf(bytes, 0) >>> 0;

/** The section table: [{kind, offset, length, entry (the table entry's offset)}]. */
export function sections(b) {
  const count = b.readUInt32LE(20);
  const table = Number(b.readBigUInt64LE(24));
  return Array.from({ length: count }, (_, i) => {
    const e = table + 32 * i;
    return { kind: b.readUInt32LE(e), offset: Number(b.readBigUInt64LE(e + 8)), length: Number(b.readBigUInt64LE(e + 16)), entry: e };
  });
}

/** Re-seal edited bytes: every section CRC, the table CRC (header and footer) and the header CRC recomputed. */
export function reseal(b) {
  const ss = sections(b);
  for (const s of ss) b.writeUInt32LE(crc32c(b.subarray(s.offset, s.offset + s.length)), s.entry + 24);
  const table = Number(b.readBigUInt64LE(24));
  const t = crc32c(b.subarray(table, table + 32 * ss.length));
  b.writeUInt32LE(t, 52);
  b.writeUInt32LE(t, b.length - 32 + 16);
  b.writeUInt32LE(crc32c(b.subarray(0, 60)), 60);
}
