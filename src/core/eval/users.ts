/**
 * The users an evaluation replays, read with DuckDB: per user the history before the split (its
 * distinct items, most recent first: the x2i seeds and the exclude set) and the truth after it (the
 * distinct items not already in the history, as Recommenders' remove_seen does). With a holdout file
 * the truth comes from it and the whole interactions file is the history.
 */
import { badInput, usage } from '../errors.js';
import { ident, literal, openDuckDB, queryRows } from '../io/duckdb.js';
import { requirePath } from '../io/paths.js';

export interface EvalUsers {
  users: string[];
  /** Distinct history items, most recent first. */
  history: string[][];
  truth: Set<string>[];
  vectors?: (Float32Array | undefined)[];
  texts?: (string | undefined)[];
  /** Distinct items in the interactions (and the holdout). */
  catalogue: number;
  /** Users left out: no truth after the split, or nothing to query with. */
  skipped: { noTruth: number; noInput: number };
}

export interface EvalUsersOptions {
  interactions: string;
  /** Seconds since the epoch, or an ISO date. */
  splitTime?: string;
  holdout?: string;
  user?: string;
  item?: string;
  ts?: string;
  /** Parquet: user column and a list-of-numbers `vector` column. */
  userVectors?: string;
  /** Parquet: user column and a `text` column. */
  userText?: string;
  /** Evaluate at most this many users (the first by id). */
  maxUsers?: number;
}

export function parseSplitTime(t: string): number {
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (Number.isNaN(ms))
    throw usage('ERR_RECALL_FLAG', `--split-time: ${JSON.stringify(t)} is neither seconds since the epoch nor an ISO date`, {
      fix: 'e.g. --split-time 2026-11-01T00:00:00Z',
    });
  return ms / 1000;
}

export async function loadEvalUsers(o: EvalUsersOptions): Promise<EvalUsers> {
  if ((o.splitTime === undefined) === (o.holdout === undefined))
    throw usage('ERR_RECALL_USAGE', 'give one of --split-time and --holdout', { fix: 'pass --split-time T or --holdout FILE' });
  await requirePath(o.interactions, 'file', '--interactions');
  if (o.holdout) await requirePath(o.holdout, 'file', '--holdout');
  if (o.userVectors) await requirePath(o.userVectors, 'file', '--user-vectors');
  if (o.userText) await requirePath(o.userText, 'file', '--user-text');
  const [U, I, T] = [ident(o.user ?? 'user_id'), ident(o.item ?? 'item_id'), ident(o.ts ?? 'ts')];
  const db = await openDuckDB();
  const c = await db.connect();
  const columnsOf = async (file: string) =>
    new Map(
      (await queryRows<{ column_name: string; column_type: string }>(c, `DESCRIBE SELECT * FROM read_parquet(${literal(file)})`)).map(
        (r) => [r.column_name, r.column_type],
      ),
    );
  const need = (cols: Map<string, string>, file: string, names: string[]) => {
    for (const n of names)
      if (!cols.has(n))
        throw badInput('ERR_RECALL_BAD_INTERACTIONS', `${file}: no column "${n}" (columns: ${[...cols.keys()].join(', ')})`, {
          file,
          fix: 'name the columns with --user-col, --item-col and --ts-col',
        });
  };
  try {
    const cols = await columnsOf(o.interactions);
    const [u, i, t] = [o.user ?? 'user_id', o.item ?? 'item_id', o.ts ?? 'ts'];
    need(cols, o.interactions, o.holdout ? [u, i] : [u, i, t]);
    const tsType = cols.get(t) ?? '';
    const tExpr = !cols.has(t) ? '0' : /TIMESTAMP|DATE/.test(tsType) ? `epoch(${T})` : `CAST(${T} AS DOUBLE)`;
    await c.run(
      `CREATE TEMP TABLE i AS SELECT CAST(${U} AS VARCHAR) AS u, CAST(${I} AS VARCHAR) AS it, ${tExpr} AS t FROM read_parquet(${literal(o.interactions)}) WHERE ${U} IS NOT NULL AND ${I} IS NOT NULL`,
    );
    const split = o.splitTime === undefined ? undefined : parseSplitTime(o.splitTime);
    if (o.holdout) {
      const hc = await columnsOf(o.holdout);
      need(hc, o.holdout, [u, i]);
      await c.run(`CREATE TEMP TABLE h AS SELECT u, it, t FROM i`);
      await c.run(
        `CREATE TEMP TABLE f AS SELECT CAST(${U} AS VARCHAR) AS u, CAST(${I} AS VARCHAR) AS it FROM read_parquet(${literal(o.holdout)}) WHERE ${U} IS NOT NULL AND ${I} IS NOT NULL`,
      );
    } else {
      await c.run(`CREATE TEMP TABLE h AS SELECT u, it, t FROM i WHERE t < ${split}`);
      await c.run(`CREATE TEMP TABLE f AS SELECT u, it FROM i WHERE t >= ${split}`);
    }
    const catalogue = Number(
      (await queryRows<{ n: number }>(c, 'SELECT count(DISTINCT it)::BIGINT AS n FROM (SELECT it FROM i UNION ALL SELECT it FROM f)'))[0]!
        .n,
    );
    const hist = await queryRows<{ u: string; items: string[] }>(
      c,
      // recency within the history only: a seed's time is its last interaction before the split
      `SELECT u, list(it ORDER BY last DESC, it) AS items FROM (SELECT u, it, max(t) AS last FROM h GROUP BY ALL) GROUP BY u`,
    );
    const fut = await queryRows<{ u: string; items: string[] }>(
      c,
      `SELECT u, list(DISTINCT it ORDER BY it) AS items FROM f GROUP BY u ORDER BY u`,
    );
    const vecs = o.userVectors
      ? await (async () => {
          const vc = await columnsOf(o.userVectors!);
          need(vc, o.userVectors!, [u, 'vector']);
          return new Map(
            (
              await queryRows<{ u: string; v: number[] }>(
                c,
                `SELECT CAST(${U} AS VARCHAR) AS u, vector AS v FROM read_parquet(${literal(o.userVectors!)})`,
              )
            ).map((r) => [r.u, Float32Array.from(r.v)]),
          );
        })()
      : undefined;
    const texts = o.userText
      ? await (async () => {
          const tc = await columnsOf(o.userText!);
          need(tc, o.userText!, [u, 'text']);
          return new Map(
            (
              await queryRows<{ u: string; x: string }>(
                c,
                `SELECT CAST(${U} AS VARCHAR) AS u, CAST(text AS VARCHAR) AS x FROM read_parquet(${literal(o.userText!)})`,
              )
            ).map((r) => [r.u, r.x]),
          );
        })()
      : undefined;
    const historyOf = new Map(hist.map((r) => [r.u, r.items]));
    const out: EvalUsers = { users: [], history: [], truth: [], catalogue, skipped: { noTruth: 0, noInput: 0 } };
    if (vecs) out.vectors = [];
    if (texts) out.texts = [];
    const withTruth = new Set<string>();
    for (const r of fut) {
      withTruth.add(r.u);
      if (o.maxUsers !== undefined && out.users.length >= o.maxUsers) break;
      const h = historyOf.get(r.u) ?? [];
      const seen = new Set(h);
      const truth = new Set(r.items.filter((x) => !seen.has(x)));
      const v = vecs?.get(r.u);
      const x = texts?.get(r.u);
      if (truth.size === 0) {
        out.skipped.noTruth++;
        continue;
      }
      if (!h.length && !v && !x) {
        out.skipped.noInput++;
        continue;
      }
      out.users.push(r.u);
      out.history.push(h);
      out.truth.push(truth);
      out.vectors?.push(v);
      out.texts?.push(x);
    }
    for (const u of historyOf.keys()) if (!withTruth.has(u)) out.skipped.noTruth++;
    return out;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
