/**
 * Documents in for the text channel: parquet (files, folders, globs; read
 * through DuckDB) or JSON lines, as an id column and one or more text columns.
 * Every problem names the file and the row (parquet) or line (JSON lines).
 */
import { readFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { requirePath } from '../../io/paths.js';
import { badInput } from '../../errors.js';
import { ident, literalList, queryRows } from '../../io/duckdb.js';
import { firstLine } from '../../io/text.js';

export interface TextDocs {
  rows: number;
  ids: { kind: 'u64'; values: BigUint64Array } | { kind: 'str'; values: string[] };
  fields: { name: string; texts: (string | null)[] }[];
  source: string;
}

export interface DocColumns {
  id: string;
  text: string[];
  /** A row whose texts exceed this many UTF-8 bytes is refused. */
  maxDocBytes: number;
}

const INT_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT)$/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function tooBig(source: string, where: string, bytes: number, max: number): never {
  throw badInput(
    'ERR_RECALL_DOC_TOO_LARGE',
    `${source}: ${where}: the document has ${bytes} bytes of text, more than --max-doc-bytes ${max}`,
    {
      file: source,
      fix: 'split the document, or raise --max-doc-bytes; nothing was written',
    },
  );
}

/** Check a row's total text size (cheap: only measured when the UTF-16 length could exceed the limit). */
function checkSize(texts: (string | null)[], max: number, source: string, where: string): void {
  let len = 0;
  for (const t of texts) len += t?.length ?? 0;
  if (len * 3 <= max) return;
  let bytes = 0;
  for (const t of texts) bytes += t ? Buffer.byteLength(t) : 0;
  if (bytes > max) tooBig(source, where, bytes, max);
}

export async function readParquetDocs(c: DuckDBConnection, files: string[], cols: DocColumns): Promise<TextDocs> {
  const src = `read_parquet(${literalList(files)})`;
  const source = files.length === 1 ? files[0]! : `${files[0]} (+${files.length - 1} more)`;
  const schema = await queryRows<{ column_name: string; column_type: string }>(c, `DESCRIBE SELECT * FROM ${src}`);
  const typeOf = (name: string, what: string) => {
    const col = schema.find((s) => s.column_name === name);
    if (!col)
      throw badInput(
        'ERR_RECALL_NO_SUCH_COLUMN',
        `${source}: no ${what} column "${name}"; columns are ${schema.map((s) => s.column_name).join(', ')}`,
        {
          file: files[0],
          fix: `pass --${what} with one of those names`,
        },
      );
    return col.column_type;
  };
  const idType = typeOf(cols.id, 'id');
  const strIds = idType === 'VARCHAR';
  if (!strIds && !INT_TYPES.test(idType))
    throw badInput('ERR_RECALL_BAD_COLUMN', `${source}: id column "${cols.id}" is ${idType}; ids must be integers or strings`, {
      file: files[0],
      fix: 'cast the id column to BIGINT or VARCHAR',
    });
  const blob: boolean[] = cols.text.map((t) => {
    const ty = typeOf(t, 'text');
    if (ty !== 'VARCHAR' && ty !== 'BLOB')
      throw badInput('ERR_RECALL_BAD_COLUMN', `${source}: text column "${t}" is ${ty}, not text`, {
        file: files[0],
        fix: 'pass VARCHAR (or UTF-8 BLOB) columns as --text',
      });
    return ty === 'BLOB';
  });
  const nullId = await queryRows<{ row: bigint }>(
    c,
    `SELECT row - 1 AS row FROM (SELECT row_number() OVER () AS row, ${ident(cols.id)} AS id FROM ${src}) WHERE id IS NULL LIMIT 1`,
  );
  if (nullId.length) {
    const row = Number(nullId[0]!.row);
    throw badInput('ERR_RECALL_NULL_ID', `${source}: row ${row}: the id ("${cols.id}") is null`, {
      file: files[0],
      row,
      fix: 'every document needs an id; drop or repair that row; nothing was written',
    });
  }
  const idExpr = strIds ? ident(cols.id) : `CAST(${ident(cols.id)} AS BIGINT)`;
  const sql = `SELECT ${idExpr}, ${cols.text.map(ident).join(', ')} FROM ${src}`;
  const ids: (bigint | string)[] = [];
  const fields = cols.text.map((name) => ({ name, texts: [] as (string | null)[] }));
  let result: Awaited<ReturnType<DuckDBConnection['stream']>>;
  try {
    result = await c.stream(sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const base = ids.length;
      for (const v of chunk.getColumnValues(0)) ids.push(v as bigint | string);
      cols.text.forEach((_, f) => {
        const vals = chunk.getColumnValues(f + 1);
        for (let i = 0; i < vals.length; i++) {
          const v = vals[i];
          if (v === null || v === undefined) fields[f]!.texts.push(null);
          else if (blob[f]) {
            const bytes = (v as { bytes: Uint8Array }).bytes;
            try {
              fields[f]!.texts.push(fatalUtf8.decode(bytes));
            } catch {
              throw badInput('ERR_RECALL_BAD_UTF8', `${source}: row ${base + i}: column "${cols.text[f]}" is not valid UTF-8`, {
                file: files[0],
                row: base + i,
                fix: 'repair or re-encode the text as UTF-8; nothing was written',
              });
            }
          } else fields[f]!.texts.push(v as string);
        }
      });
      for (let r = base; r < ids.length; r++)
        checkSize(
          fields.map((f) => f.texts[r]!),
          cols.maxDocBytes,
          source,
          `row ${r}`,
        );
    }
  } catch (e) {
    const m = (e as Error).message ?? '';
    if (/utf-?8|unicode/i.test(m) && !(e as { exit?: number }).exit)
      throw badInput('ERR_RECALL_BAD_UTF8', `${source}: a text column is not valid UTF-8 (${firstLine(m)})`, {
        file: files[0],
        fix: 'repair or re-encode the text as UTF-8; nothing was written',
      });
    throw e;
  }
  return {
    rows: ids.length,
    ids: strIds
      ? { kind: 'str', values: ids as string[] }
      : { kind: 'u64', values: BigUint64Array.from(ids as bigint[], (x) => BigInt.asUintN(64, x)) },
    fields,
    source,
  };
}

/** JSON lines: one object per line with the id and text fields; lines are checked as UTF-8 first. */
export async function readJsonLineDocs(path: string, cols: DocColumns): Promise<TextDocs> {
  await requirePath(path, 'file', '--input');
  const buf = await readFile(path);
  const ids: (bigint | string)[] = [];
  const fields = cols.text.map((name) => ({ name, texts: [] as (string | null)[], seen: false }));
  let kind: 'u64' | 'str' | undefined;
  let start = 0;
  let lineNo = 0;
  const fail = (code: string, what: string, fix: string): never => {
    throw badInput(code, `${path}: line ${lineNo}: ${what}`, {
      file: path,
      offset: start,
      row: ids.length,
      fix: `${fix}; nothing was written`,
    });
  };
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    lineNo++;
    let line: string;
    try {
      line = fatalUtf8.decode(buf.subarray(start, end));
    } catch {
      fail('ERR_RECALL_BAD_UTF8', `not valid UTF-8 (the line starts at byte ${start})`, 'repair or re-encode the file as UTF-8');
    }
    if (line!.trim()) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line!) as Record<string, unknown>;
      } catch {
        fail('ERR_RECALL_BAD_ROW', 'not a JSON object', `one {"${cols.id}": ..., "${cols.text[0]}": "..."} object per line`);
      }
      const id = o![cols.id];
      if (id === null || id === undefined)
        fail('ERR_RECALL_NULL_ID', `the id ("${cols.id}") is missing or null`, 'every document needs an id');
      const k = typeof id === 'string' ? 'str' : Number.isSafeInteger(id) && (id as number) >= 0 ? 'u64' : undefined;
      if (!k)
        fail(
          'ERR_RECALL_BAD_ROW',
          `the id ${JSON.stringify(id)} is neither a string nor a non-negative integer`,
          'use integer or string ids',
        );
      if (kind && k !== kind)
        fail(
          'ERR_RECALL_BAD_ROW',
          `the id ${JSON.stringify(id)} is a ${k === 'str' ? 'string' : 'number'}, earlier ids are not`,
          'use one id type in the file',
        );
      kind = k;
      ids.push(k === 'str' ? (id as string) : BigInt(id as number));
      for (const f of fields) {
        const v = o![f.name];
        if (v !== null && v !== undefined && typeof v !== 'string')
          fail('ERR_RECALL_BAD_ROW', `field "${f.name}" is not a string`, 'text fields hold strings');
        if (v !== undefined) f.seen = true;
        f.texts.push((v as string | null | undefined) ?? null);
      }
      checkSize(
        fields.map((f) => f.texts[f.texts.length - 1]!),
        cols.maxDocBytes,
        path,
        `line ${lineNo}`,
      );
    }
    start = end + 1;
  }
  const missing = fields.find((f) => !f.seen);
  if (ids.length && missing)
    throw badInput('ERR_RECALL_NO_SUCH_COLUMN', `${path}: no line has a "${missing.name}" field`, {
      file: path,
      fix: 'pass --text with the name of the text field',
    });
  return {
    rows: ids.length,
    ids: kind === 'str' ? { kind: 'str', values: ids as string[] } : { kind: 'u64', values: BigUint64Array.from(ids as bigint[]) },
    fields: fields.map(({ name, texts }) => ({ name, texts })),
    source: path,
  };
}

/** Texts (after `prepare`) as one UTF-8 buffer + rows + 1 offsets. */
export function packTexts(
  texts: readonly (string | null)[],
  prepare: (s: string) => string,
  what: string,
): { text: Uint8Array; offsets: Uint32Array } {
  const prepared = texts.map((t) => (t ? prepare(t) : ''));
  const offsets = new Uint32Array(prepared.length + 1);
  let total = 0;
  for (let i = 0; i < prepared.length; i++) {
    total += Buffer.byteLength(prepared[i]!);
    if (total > 0xffffffff)
      throw badInput('ERR_RECALL_TOO_LARGE', `${what}: more than 4 GiB of text in one index file`, {
        fix: 'shard the input (`recall shard`) and build per shard',
      });
    offsets[i + 1] = total;
  }
  const text = Buffer.allocUnsafe(total);
  for (let i = 0; i < prepared.length; i++) text.write(prepared[i]!, offsets[i]!, 'utf8');
  return { text, offsets };
}

/** Strings as one UTF-8 buffer + n + 1 offsets (string ids). */
export function packStrings(values: readonly string[]): { bytes: Uint8Array; offsets: Uint32Array } {
  const { text, offsets } = packTexts(values, (s) => s, 'ids');
  return { bytes: text, offsets };
}
