/**
 * x2i lists computed from interaction logs (user, item, time, weight):
 * DuckDB reads and densifies the ids, recall-core computes item-CF or Swing
 * rows (parallel, deterministic), and the rows become the x2i lists.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { badInput, usage } from '../../errors.js';
import { readColumns } from '../../io/columns.js';
import { ident, literal, literalList, queryRows } from '../../io/duckdb.js';
import { loadNative, tokenFor, type X2iComputeOptions } from '../../native.js';
import { packUserKeys } from './user-keys.js';
import { describeInputs } from '../../shard/inputs.js';

export interface InteractionColumns {
  user: string;
  item: string;
  ts?: string;
  weight?: string;
  /** With `actionWeights`: the event-type column, e.g. click / like / share. */
  action?: string;
  actionWeights?: Record<string, number>;
}

export interface ComputedLists {
  keys: BigUint64Array;
  offsets: BigUint64Array;
  items: BigUint64Array;
  scores: Float32Array;
  interactions: number;
  keptInteractions: number;
  users: number;
  work: number;
}

const INT_TYPES = /^(U?(TINY|SMALL|BIG)?INT(EGER)?)$/;

/** The defaults of every similarity parameter (`recall build x2i` flags and recall.config.json alike). */
export const COMPUTE_DEFAULTS = {
  algo: 'cosine',
  topK: 100,
  minScore: 0,
  minCommon: 1,
  userCap: 200,
  minUserItems: 1,
  maxUserItems: 1000,
  alpha: 0.5,
  tauSeconds: 24 * 3600,
  alpha1: 15,
  alpha2: 0,
  beta: 0.3,
  itemUserCap: 200,
} as const;

export function parseActionWeights(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    const w = Number(v);
    if (!k || !Number.isFinite(w) || w <= 0)
      throw usage('ERR_RECALL_USAGE', `--action-weights: "${part}" is not action=positive-number`, {
        fix: 'write e.g. click=1,like=2,share=3',
      });
    out[k] = w;
  }
  return out;
}

export async function listsFromInteractions(
  c: DuckDBConnection,
  files: string[],
  cols: InteractionColumns,
  options: X2iComputeOptions,
  signal?: AbortSignal,
): Promise<ComputedLists> {
  // files is never empty: expandInputs refuses an input that matches nothing
  const first = (await describeInputs(c, files))[0]!;
  const typeOf = (name: string | undefined, flag: string) => {
    if (name === undefined) return undefined;
    const col = first.schema.find((s) => s.name === name);
    if (!col)
      throw badInput(
        'ERR_RECALL_NO_SUCH_COLUMN',
        `${first.path}: no column "${name}" (--${flag}); columns are ${first.schema.map((s) => s.name).join(', ')}`,
        { file: first.path },
      );
    return col.type;
  };
  typeOf(cols.user, 'user');
  const itemType = typeOf(cols.item, 'item')!;
  if (!INT_TYPES.test(itemType))
    throw badInput('ERR_RECALL_BAD_KEY_TYPE', `${first.path}: item column "${cols.item}" is ${itemType}; x2i items must be integers`, {
      file: first.path,
    });
  const tsType = typeOf(cols.ts, 'ts');
  typeOf(cols.weight, 'weight');
  typeOf(cols.action, 'action');
  const src = `read_parquet(${literalList(files)}, filename = true, file_row_number = true)`;
  const [u, i] = [ident(cols.user), ident(cols.item)];
  const ts = !cols.ts ? '0' : /^TIMESTAMP|^DATE/.test(tsType!) ? `epoch(${ident(cols.ts)})` : ident(cols.ts);
  const weight = cols.weight
    ? ident(cols.weight)
    : cols.actionWeights
      ? `CASE ${ident(cols.action ?? 'action')} ${Object.entries(cols.actionWeights)
          .map(([k, v]) => `WHEN ${literal(k)} THEN ${v}`)
          .join(' ')} ELSE NULL END`
      : '1.0';
  for (const [where, what] of [
    [`${u} IS NULL`, 'null user'],
    [`${i} IS NULL`, 'null item'],
    [
      cols.ts ? `${ident(cols.ts)} IS NULL OR ${ts} < 0 OR ${ts} >= 4294967296` : 'false',
      `null or out-of-range time in "${cols.ts}" (seconds since 1970 up to 2106)`,
    ],
    [
      cols.weight || cols.actionWeights ? `(${weight}) IS NULL OR isnan((${weight})::DOUBLE) OR (${weight}) <= 0` : 'false',
      cols.actionWeights ? `an action with no weight in --action-weights` : `a null, NaN or non-positive weight in "${cols.weight}"`,
    ],
  ] as const) {
    const [bad] = await queryRows<{ filename: string; row: string }>(
      c,
      `SELECT filename, file_row_number::VARCHAR AS row FROM ${src} WHERE ${where} LIMIT 1`,
    );
    if (bad)
      throw badInput('ERR_RECALL_BAD_ROW', `${bad.filename}: row ${bad.row}: ${what}`, {
        file: bad.filename,
        row: Number(bad.row),
        fix: 'fix or filter the row; nothing was written',
      });
  }
  signal?.throwIfAborted();
  const base = `SELECT ${u} AS u, ${i} AS i, (${ts})::UINTEGER AS t, (${weight})::FLOAT AS w FROM ${src}`;
  const [user, item, tsCol, w] = await readColumns<[Int32Array, Int32Array, Int32Array, Float32Array]>(
    c,
    `SELECT (dense_rank() OVER (ORDER BY u) - 1)::INTEGER, (dense_rank() OVER (ORDER BY i) - 1)::INTEGER, t::INTEGER, w FROM (${base})`,
    [Int32Array, Int32Array, Int32Array, Float32Array],
  );
  const [ids] = await readColumns<[BigInt64Array]>(c, `SELECT DISTINCT ${i}::BIGINT AS i FROM ${src} ORDER BY i`, [BigInt64Array]);
  const users = user.reduce((m, x) => Math.max(m, x + 1), 0);
  const native = loadNative();
  const u32 = (a: Int32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
  const keys = new BigUint64Array(ids.buffer, ids.byteOffset, ids.length);
  // Swing samples an item's users by their keys as text (what a stream reads them as), in dense_rank order
  const sampleKeys = options.algo === 'swing' ? { ...(await userKeyBytes(c, `SELECT DISTINCT u FROM (${base})`)), itemIds: keys } : null;
  const rows = await native.x2iCompute(
    u32(user),
    u32(item),
    u32(tsCol),
    cols.weight || cols.actionWeights ? w : null,
    users,
    ids.length,
    options,
    tokenFor(native, signal),
    sampleKeys,
  );
  const items = new BigUint64Array(rows.nb.length);
  for (let p = 0; p < rows.nb.length; p++) items[p] = keys[rows.nb[p]!]!;
  return {
    keys,
    offsets: rows.rowOff,
    items,
    scores: rows.sc,
    interactions: user.length,
    keptInteractions: rows.keptInteractions,
    users,
    work: rows.work,
  };
}

/** The distinct users of `distinct` (one column u) as UTF-8 text in their typed order (dense_rank's). */
async function userKeyBytes(c: DuckDBConnection, distinct: string): Promise<{ userOff: Uint32Array; userBytes: Uint8Array }> {
  const rows = (await c.runAndReadAll(`SELECT u::VARCHAR FROM (${distinct}) ORDER BY u`)).getColumnsJS()[0] as string[];
  return packUserKeys(rows);
}
