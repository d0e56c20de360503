/**
 * How `recall shard` splits its input between parallel writers (lanes): each lane reads one
 * contiguous slice of the input rows, cut at row-group boundaries so no row group is decoded
 * twice, and writes its piece of every shard; a shard is then its lanes' pieces joined in lane
 * order (io/parquet-concat.ts), so its rows keep their input order. The cuts depend only on the
 * input's row groups and the lane count, never on timing: the same input and flags give the same
 * bytes.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { literal, literalList, queryRows } from '../io/duckdb.js';

/** Rows [from, to) of one input file (file row numbers). */
export interface Slice {
  file: string;
  from: number;
  to: number;
  /** The whole file. */
  whole: boolean;
}

export interface LaneInput {
  path: string;
  /** Rows of each row group, in file order. */
  rowGroups: number[];
}

/** Each file's row-group sizes, from its footer. */
export async function rowGroupsOf(c: DuckDBConnection, files: readonly string[]): Promise<LaneInput[]> {
  const out: LaneInput[] = [];
  for (const path of files) {
    const rows = await queryRows<{ n: string }>(
      c,
      `SELECT any_value(row_group_num_rows)::VARCHAR AS n FROM parquet_metadata(${literal(path)}) GROUP BY row_group_id ORDER BY row_group_id`,
    );
    out.push({ path, rowGroups: rows.map((r) => Number(r.n)) });
  }
  return out;
}

/**
 * At most `lanes` slices lists, one per lane, covering every row once in input order. Lane j
 * ends at the row-group boundary nearest to j/lanes of the rows; an input with fewer row groups
 * than lanes gets fewer lanes, and one without rows none.
 */
export function planLanes(inputs: readonly LaneInput[], lanes: number): Slice[][] {
  const ends: number[] = []; // global row position after each row group
  let total = 0;
  for (const f of inputs)
    for (const n of f.rowGroups) {
      if (!n) continue;
      total += n;
      ends.push(total);
    }
  if (!total) return [];
  const cuts: number[] = [];
  let next = 0; // first boundary a later cut may use
  for (let j = 1; j < lanes; j++) {
    const target = (total * j) / lanes;
    let best = -1;
    for (let b = next; b < ends.length - 1; b++) if (best < 0 || Math.abs(ends[b]! - target) < Math.abs(ends[best]! - target)) best = b;
    if (best < 0) break;
    cuts.push(ends[best]!);
    next = best + 1;
  }
  cuts.push(total);
  const plan: Slice[][] = [];
  let lo = 0;
  for (const hi of cuts) {
    const lane: Slice[] = [];
    let start = 0; // global position of the file's first row
    for (const f of inputs) {
      const rows = f.rowGroups.reduce((a, b) => a + b, 0);
      const from = Math.max(lo, start) - start;
      const to = Math.min(hi, start + rows) - start;
      if (to > from) lane.push({ file: f.path, from, to, whole: from === 0 && to === rows });
      start += rows;
    }
    plan.push(lane);
    lo = hi;
  }
  return plan;
}

/**
 * One lane's rows as a DuckDB relation, in input order: whole files through one read_parquet, a
 * part of a file through its file_row_number (which DuckDB prunes to the row groups it needs).
 */
export function laneSource(slices: readonly Slice[]): string {
  const parts: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length) parts.push(`SELECT * FROM read_parquet(${literalList(run)})`);
    run = [];
  };
  for (const s of slices) {
    if (s.whole) {
      run.push(s.file);
      continue;
    }
    flush();
    parts.push(
      `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${literal(s.file)}, file_row_number = true) WHERE file_row_number >= ${s.from} AND file_row_number < ${s.to}`,
    );
  }
  flush();
  return parts.length === 1 ? `(${parts[0]})` : `(${parts.join(' UNION ALL ')})`;
}
