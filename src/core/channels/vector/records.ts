/** vector WAL payloads: upsert `u64 id, u32 dim, dim × f32`; delete `u64 id`. */
import { ident } from '../../io/duckdb.js';
import type { RecordCodec, RecordWriter } from '../driver.js';
import { isF32 } from '../../io/text.js';

export const vectorRecords: RecordCodec = {
  encoder: () => {
    let dim = 0;
    return (w: RecordWriter, rec: Record<string, unknown>, del: boolean) => {
      const b = w.bytes;
      const id = w.key(rec.id, 'id');
      b.u64(id);
      if (del) return;
      const v = rec.vector;
      if (!Array.isArray(v) || v.length === 0) w.fail('a vector upsert needs a non-empty "vector" array', 'add the embedding');
      if (dim && v.length !== dim)
        w.fail(`"vector" has ${v.length} dimensions, earlier records ${dim}`, 'give every vector the index dimension');
      dim = v.length;
      b.u32(v.length);
      v.forEach((x, i) => {
        if (!isF32(x)) w.fail(`vector[${i}] is ${JSON.stringify(x)}, not a finite f32 number`, 'fix the embedding');
        b.f32(x);
      });
    };
  },
  parquetSelect: (cols, need, _text) =>
    `${ident(need(cols.id ?? 'id', 'id'))} AS id, ${ident(need(cols.vector ?? 'vector', 'vector'))} AS vector`,
};
