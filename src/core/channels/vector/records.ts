/** vector WAL payloads: upsert `u64 id, u32 dim, dim × f32`; delete `u64 id`. */
import { ident } from '../../io/duckdb.js';
import { resolveLayered } from '../../index/layers.js';
import { loadNative } from '../../native.js';
import type { RecordCodec, RecordFit, RecordWriter } from '../driver.js';
import { VECTOR_FILE_EXT } from './build.js';
import { isF32 } from '../../io/text.js';

export const vectorRecords: RecordCodec = {
  encoder: (fit: RecordFit) => {
    return (w: RecordWriter, rec: Record<string, unknown>, del: boolean) => {
      const b = w.bytes;
      const id = w.key(rec.id, 'id');
      b.u64(id);
      if (del) return;
      const v = rec.vector;
      if (!Array.isArray(v) || v.length === 0) w.fail('a vector upsert needs a non-empty "vector" array', 'add the embedding');
      if (fit.dim && v.length !== fit.dim)
        w.fail(
          `"vector" has ${v.length} dimensions, ${fit.dimFrom ?? 'earlier records'} ${fit.dim}`,
          'give every vector the index dimension',
        );
      if (!fit.dim) {
        fit.dim = v.length;
        fit.dimFrom = 'earlier records';
      }
      b.u32(v.length);
      v.forEach((x, i) => {
        if (!isF32(x)) w.fail(`vector[${i}] is ${JSON.stringify(x)}, not a finite f32 number`, 'fix the embedding');
        b.f32(x);
      });
    };
  },
  inapplicable: (p, del, fit) => {
    if (del) return p.length === 8 ? null : `a delete of ${p.length} bytes, not an 8-byte id`;
    if (p.length < 12) return `an upsert of ${p.length} bytes, shorter than its header`;
    const dim = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(8, true);
    if (p.length !== 12 + 4 * dim) return `an upsert of ${p.length} bytes disagrees with its dimension ${dim}`;
    if (fit.dim && dim !== fit.dim) return `a ${dim}-dimensional vector; the index has ${fit.dim} dimensions`;
    return null;
  },
  fitOf: async (index) => {
    const file = (await resolveLayered(index, VECTOR_FILE_EXT, 'a vector')).layers.flatMap((l) => l.files)[0];
    if (!file) return {};
    const native = loadNative();
    return { dim: native.vectorInfo(native.vectorOpen(file)).dim };
  },
  parquetSelect: (cols, need, _text) =>
    `${ident(need(cols.id ?? 'id', 'id'))} AS id, ${ident(need(cols.vector ?? 'vector', 'vector'))} AS vector`,
};
