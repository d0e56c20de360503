/** text WAL payloads: upsert `u32 id bytes, id (UTF-8), fields JSON`; delete the id alone. */
import { ident } from '../../io/duckdb.js';
import type { RecordCodec, RecordWriter } from '../driver.js';

export const textRecords: RecordCodec = {
  encoder: () => (w: RecordWriter, rec: Record<string, unknown>, del: boolean) => {
    const b = w.bytes;
    const id = rec.id;
    if (!((typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length > 0))) {
      w.fail(`"id" is ${JSON.stringify(id) ?? 'missing'}`, 'give "id" as an integer or a non-empty string');
    }
    const idText = String(id);
    if (del) {
      b.utf8(idText);
      return;
    }
    const f = rec.fields;
    // "inverted" is what users call this channel: the message keeps their word
    if (typeof f !== 'object' || f === null || Array.isArray(f) || Object.keys(f).length === 0)
      w.fail('an inverted upsert needs a "fields" object', 'add e.g. {"body": "..."}');
    for (const [name, v] of Object.entries(f)) {
      if (typeof v !== 'string' && v !== null) w.fail(`field "${name}" is ${typeof v}, not text`, 'give each field as a string (or null)');
    }
    b.u32(Buffer.byteLength(idText));
    b.utf8(idText);
    b.utf8(JSON.stringify(f));
  },
  parquetSelect: (cols, need, textColumns) => {
    const id = need(cols.id ?? 'id', 'id');
    const text = textColumns(id);
    return `${ident(id)} AS id, json_object(${text.map((t) => `'${t.replaceAll("'", "''")}', ${ident(need(t, 'text'))}`).join(', ')}) AS fields`;
  },
  parquetRow: (r) => {
    if (typeof r.fields === 'string') r.fields = JSON.parse(r.fields);
  },
};
