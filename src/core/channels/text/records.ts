/** text WAL payloads: upsert `u32 id bytes, id (UTF-8), fields JSON`; delete the id alone. */
import { ident } from '../../io/duckdb.js';
import { resolveLayered } from '../../index/layers.js';
import { loadNative } from '../../native.js';
import type { RecordCodec, RecordFit, RecordWriter } from '../driver.js';
import { TEXT_FILE_EXT } from './build.js';

/** The field of `fields` not in `known`, if any. */
const unknownField = (fields: object, known: readonly string[] | undefined): string | undefined =>
  known ? Object.keys(fields).find((name) => !known.includes(name)) : undefined;

export const textRecords: RecordCodec = {
  encoder: (fit: RecordFit) => (w: RecordWriter, rec: Record<string, unknown>, del: boolean) => {
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
    const unknown = unknownField(f, fit.fields);
    if (unknown !== undefined)
      w.fail(
        `field "${unknown}" is not a field of ${fit.fieldsFrom ?? 'the index'} (fields: ${fit.fields!.join(', ')})`,
        'append upserts with the index fields only',
      );
    b.u32(Buffer.byteLength(idText));
    b.utf8(idText);
    b.utf8(JSON.stringify(f));
  },
  inapplicable: (p, del, fit) => {
    if (del) return null;
    const b = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
    const n = b.length >= 4 ? b.readUInt32LE(0) : -1;
    if (n < 0 || 4 + n > b.length) return 'an upsert shorter than its id';
    let fields: unknown;
    try {
      fields = JSON.parse(b.toString('utf8', 4 + n));
    } catch {
      return 'an upsert whose fields are not JSON';
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return 'an upsert whose fields are not an object';
    const unknown = unknownField(fields, fit.fields);
    return unknown === undefined ? null : `a field "${unknown}" the index does not have (fields: ${fit.fields!.join(', ')})`;
  },
  fitOf: async (index) => {
    const file = (await resolveLayered(index, TEXT_FILE_EXT, 'a text index')).layers.flatMap((l) => l.files)[0];
    if (!file) return {};
    const native = loadNative();
    return { fields: native.textInfo(native.textOpen(file)).fields.map((f) => f.name) };
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
