/**
 * Merge requests and id lists read from files: requests as JSON lines or parquet (one request a
 * row), allow / deny lists as one item id a line. Every complaint names the file and the row.
 */
import { readFile } from 'node:fs/promises';
import { badInput } from '../errors.js';
import { literal, openDuckDB, queryRows } from '../io/duckdb.js';
import { requirePath } from '../io/paths.js';
import type { MergeRequest } from './gather.js';

const isId = (v: unknown) =>
  (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && v.length > 0) || typeof v === 'bigint';

/** One request from a parsed row; `where` names the file and row in messages. */
export function toRequest(row: unknown, where: { file: string; row: number }): MergeRequest {
  const fail = (what: string): never => {
    throw badInput('ERR_RECALL_BAD_REQUEST', `${where.file}: row ${where.row + 1}: ${what}`, {
      file: where.file,
      row: where.row,
      fix: 'a request is {"id", "seeds": [item or {"item", "weight"}], "vector": [numbers], "text", "exclude": [items]}',
    });
  };
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return fail('not a JSON object');
  const r = row as Record<string, unknown>;
  const out: MergeRequest = {};
  if (r.id != null) out.id = String(r.id);
  if (r.seeds != null) {
    if (!Array.isArray(r.seeds)) return fail('"seeds" is not a list');
    out.seeds = r.seeds.map((s, i) => {
      if (isId(s)) return { item: String(s) };
      const o = s as { item?: unknown; weight?: unknown } | null;
      if (!o || !isId(o.item)) return fail(`seeds[${i}] is neither an item id nor {"item", "weight"}`);
      if (o.weight != null && !(typeof o.weight === 'number' && Number.isFinite(o.weight)))
        return fail(`seeds[${i}].weight is not a finite number`);
      return { item: String(o.item), weight: (o.weight as number | undefined) ?? 1 };
    });
  }
  if (r.vector != null) {
    if (!Array.isArray(r.vector) || !r.vector.every((x) => typeof x === 'number' && Number.isFinite(x)))
      return fail('"vector" is not a list of finite numbers');
    out.vector = Float32Array.from(r.vector as number[]);
  }
  if (r.text != null) {
    if (typeof r.text !== 'string') return fail('"text" is not a string');
    out.text = r.text;
  }
  if (r.exclude != null) {
    if (!Array.isArray(r.exclude) || !r.exclude.every(isId)) return fail('"exclude" is not a list of item ids');
    out.exclude = r.exclude.map(String);
  }
  return out;
}

/** Requests from a JSON-lines file, or a parquet file (same columns). */
export async function readRequests(file: string): Promise<MergeRequest[]> {
  await requirePath(file, 'file', '--requests');
  if (/\.parquet$/i.test(file)) {
    const db = await openDuckDB({ threads: 1 });
    const c = await db.connect();
    try {
      const rows = await queryRows(c, `SELECT * FROM read_parquet(${literal(file)})`);
      return rows.map((row, i) => toRequest(row, { file, row: i }));
    } finally {
      c.closeSync();
      db.closeSync();
    }
  }
  const lines = (await readFile(file, 'utf8')).split('\n');
  const out: MergeRequest[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw badInput('ERR_RECALL_BAD_REQUEST', `${file}: row ${i + 1}: not JSON (${(e as Error).message})`, {
        file,
        row: i,
        fix: 'one JSON object per line',
      });
    }
    out.push(toRequest(v, { file, row: i }));
  });
  return out;
}

/** Item ids, one a line (blank lines and # comments skipped). */
export async function readIdList(file: string, flag: string): Promise<Set<string>> {
  await requirePath(file, 'file', flag);
  const ids = new Set<string>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const t = line.trim();
    if (t && !t.startsWith('#')) ids.add(t);
  }
  return ids;
}
