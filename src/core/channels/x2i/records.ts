/** x2i WAL payloads: upsert `i64 key, u32 n, n × u64 item, n × f32 score[, u32 m, m bytes tag]`; delete `i64 key`. */
import { ident } from '../../io/duckdb.js';
import type { RecordCodec, RecordWriter } from '../driver.js';
import { isF32 } from '../../io/text.js';

export const x2iRecords: RecordCodec = {
  encoder: () => (w: RecordWriter, rec: Record<string, unknown>, del: boolean) => {
    const b = w.bytes;
    const key = w.key(rec.key, 'key');
    if (del) {
      b.u64(key);
      return;
    }
    const { neighbors: n, scores: s } = rec;
    if (!Array.isArray(n) || !Array.isArray(s)) w.fail('an x2i upsert needs "neighbors" and "scores" arrays', 'add both lists');
    if (n.length !== s.length) w.fail(`"neighbors" has ${n.length} items and "scores" ${s.length}`, 'give one score per neighbor');
    const items = n.map((x) => w.key(x, 'neighbors[]'));
    s.forEach((x, i) => {
      if (!isF32(x)) w.fail(`scores[${i}] is ${JSON.stringify(x)}, not a finite f32 number`, 'fix the score');
    });
    b.u64(key);
    b.u32(items.length);
    for (const x of items) b.u64(x);
    for (const x of s as number[]) b.f32(x);
  },
  // x2i records fit every x2i index (keys, items and scores are checked when appended)
  inapplicable: (p, del) => {
    if (del) return p.length === 8 ? null : `a delete of ${p.length} bytes, not an 8-byte key`;
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const end = p.length >= 12 ? 12 + 12 * v.getUint32(8, true) : -1;
    // a stream's records carry a tag after the scores: u32 length + bytes (its source position)
    const tagged = end >= 0 && p.length >= end + 4 && p.length === end + 4 + v.getUint32(end, true);
    return end >= 0 && (p.length === end || tagged) ? null : `an upsert of ${p.length} bytes disagrees with its item count`;
  },
  parquetSelect: (cols, need, _text) =>
    `${ident(need(cols.key ?? 'key', 'key'))} AS key, ${ident(need(cols.neighbors ?? 'neighbors', 'neighbors'))} AS neighbors, ${ident(need(cols.scores ?? 'scores', 'scores'))} AS scores`,
};
