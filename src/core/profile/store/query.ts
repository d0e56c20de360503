/**
 * Reading the store back: profiles selected by labels, merged into the PodProfile model the
 * readers produce, so `profile diff`, history and regressions run the same code as on files.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { usage } from '../../errors.js';
import { literal, openDuckDB } from '../../io/duckdb.js';
import type { PodProfile, ProfileFormat } from '../model.js';
import { openStore, type StoreView } from './layout.js';

export interface StoredProfile {
  id: string;
  ingestId: string;
  app: string;
  version: string;
  startTime: Date;
  labels: Record<string, string>;
  format: ProfileFormat;
  event: string | null;
  unit: string;
  durationNs: number | null;
  totalValue: number;
  totalSamples: number;
  source: string;
}

export type Selector = Record<string, string>;

/** 'app=A,version=V1' -> {app: 'A', version: 'V1'}. */
export function parseSelector(text: string, flag: string): Selector {
  const out: Selector = {};
  for (const pair of text.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usage('ERR_RECALL_FLAG', `${flag} "${pair}" is not key=value`, { fix: `write ${flag} 'app=search,version=1.3'` });
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

export const matches = (labels: Record<string, string>, sel: Selector): boolean => Object.entries(sel).every(([k, v]) => labels[k] === v);

export class StoreReader {
  private constructor(
    readonly view: StoreView,
    private readonly c: DuckDBConnection,
    private readonly close: () => void,
    readonly profiles: StoredProfile[],
  ) {}

  static async open(dir: string): Promise<StoreReader> {
    const view = await openStore(dir);
    const db = await openDuckDB();
    const c = await db.connect();
    const profiles: StoredProfile[] = [];
    if (view.files.profiles.length) {
      const r =
        await c.runAndReadAll(`SELECT profile_id, ingest_id, app, version, epoch_ms(start_time) AS t, labels, format, event, unit, duration_ns, total_value, total_samples, source
        FROM read_parquet([${view.files.profiles.map(literal).join(', ')}]) ORDER BY start_time, profile_id`);
      for (const row of r.getRowsJS()) {
        const [id, ingestId, app, version, t, labels, format, event, unit, durationNs, totalValue, totalSamples, source] = row as [
          string,
          string,
          string,
          string,
          bigint | number,
          string,
          ProfileFormat,
          string | null,
          string,
          bigint | null,
          number,
          bigint,
          string,
        ];
        if (view.owner.get(id) !== ingestId) continue;
        profiles.push({
          id,
          ingestId,
          app,
          version,
          startTime: new Date(Number(t)),
          labels: JSON.parse(labels) as Record<string, string>,
          format,
          event,
          unit,
          durationNs: durationNs === null ? null : Number(durationNs),
          totalValue,
          totalSamples: Number(totalSamples),
          source,
        });
      }
    }
    return new StoreReader(
      view,
      c,
      () => {
        c.closeSync();
        db.closeSync();
      },
      profiles,
    );
  }

  dispose(): void {
    this.close();
  }

  /** Folded stack by dense index (kidx.idx), filled as selections need them. */
  private readonly folded: string[] = [];
  private indexed = false;

  /** The stacks dictionary once per reader, in the connection: stack_id -> dense index and folded text. */
  private async stackIndex(): Promise<void> {
    if (this.indexed) return;
    const files = this.view.files.stacks;
    await this.c.run(
      files.length
        ? `CREATE OR REPLACE TEMP TABLE kidx AS
             SELECT stack_id, (row_number() OVER (ORDER BY stack_id) - 1)::INTEGER AS idx, array_to_string(frames, ';') AS stack
             FROM (SELECT stack_id, any_value(frames) AS frames FROM read_parquet([${files.map(literal).join(', ')}]) GROUP BY stack_id)`
        : 'CREATE OR REPLACE TEMP TABLE kidx (stack_id BIGINT, idx INTEGER, stack VARCHAR)',
    );
    await this.c.run('CREATE OR REPLACE TEMP TABLE kloaded (idx INTEGER)');
    this.indexed = true;
  }

  select(sel: Selector, where: Selector = {}): StoredProfile[] {
    return this.profiles.filter((p) => matches(p.labels, sel) && matches(p.labels, where));
  }

  /** Versions of an app ordered by first-seen time. */
  versions(app: string): Array<{ version: string; firstSeen: Date; profiles: StoredProfile[] }> {
    const by = new Map<string, { version: string; firstSeen: Date; profiles: StoredProfile[] }>();
    for (const p of this.profiles) {
      if (p.app !== app) continue;
      const v = by.get(p.version) ?? { version: p.version, firstSeen: p.startTime, profiles: [] };
      if (p.startTime < v.firstSeen) v.firstSeen = p.startTime;
      v.profiles.push(p);
      by.set(p.version, v);
    }
    return [...by.values()].sort((a, b) => a.firstSeen.getTime() - b.firstSeen.getTime() || (a.version < b.version ? -1 : 1));
  }

  /**
   * Raw frame name -> the source files the stacks dictionary gives for it (pprof
   * Function.filename, perf srcline). Stacks files written before the `files` column read as none.
   */
  async frameFiles(): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    if (!this.view.files.stacks.length) return out;
    const r = await this.c.runAndReadAll(`
      SELECT DISTINCT frame, file FROM (
        SELECT unnest(frames) AS frame, unnest(files) AS file
        FROM read_parquet([${this.view.files.stacks.map(literal).join(', ')}], union_by_name = true) WHERE files IS NOT NULL)
      WHERE file IS NOT NULL`);
    for (const [frame, file] of r.getRowsJS() as Array<[string, string]>) {
      let set = out.get(frame);
      if (!set) out.set(frame, (set = new Set()));
      set.add(file);
    }
    return out;
  }

  /**
   * The selected profiles as pods: profiles sharing a `pod` label are merged into one pod
   * (several captures of one pod), others are a pod each. Order: by pod name / profile id.
   */
  pods(selected: StoredProfile[]): Promise<PodProfile[]> {
    // One selection at a time: each reads through the connection's `sel` temp table, and two sides
    // of a diff asked for at once would otherwise read each other's rows.
    const run = this.podsQueue.then(() => this.podsNow(selected));
    this.podsQueue = run.catch(() => undefined);
    return run;
  }

  private podsQueue: Promise<unknown> = Promise.resolve();

  private async podsNow(selected: StoredProfile[]): Promise<PodProfile[]> {
    if (!selected.length) return [];
    const ingests = new Set(selected.map((p) => p.ingestId));
    const samples = this.view.commits
      .filter((c) => ingests.has(c.ingestId))
      .flatMap((c) => c.files.samples.map((f) => `${this.view.dir}/${f}`));
    await this.stackIndex();
    const order = [...selected];
    const pairs = order.map((p, i) => `(${i}, ${literal(p.id)}, ${literal(p.ingestId)})`).join(', ');
    // Rows as numbers only (profile position, stack index): a folded string per row was most of
    // the cost; each stack's string crosses over once per reader.
    await this.c.run(`CREATE OR REPLACE TEMP TABLE sel AS
      WITH want(pos, profile_id, ingest_id) AS (VALUES ${pairs}),
      s AS (SELECT profile_id, stack_id, value, count, regexp_extract(filename, '([^/]+)\\.parquet$', 1) AS ingest_id FROM read_parquet([${samples.map(literal).join(', ')}], filename = true))
      SELECT want.pos::INTEGER AS pos, k.idx, s.value, s.count::DOUBLE AS count
      FROM s JOIN want USING (profile_id, ingest_id) JOIN kidx k USING (stack_id)`);
    const fresh = await this.c.runAndReadAll(
      'SELECT idx, stack FROM kidx WHERE idx IN (SELECT DISTINCT idx FROM sel) AND idx NOT IN (SELECT idx FROM kloaded)',
    );
    // (a result without rows has no columns)
    const [newIdx = [], newStacks = []] = fresh.getColumnsJS() as [number[]?, string[]?];
    for (let i = 0; i < newIdx.length; i++) this.folded[newIdx[i]!] = newStacks[i]!;
    if (newIdx.length) await this.c.run('INSERT INTO kloaded SELECT DISTINCT idx FROM sel WHERE idx NOT IN (SELECT idx FROM kloaded)');
    // (not io/columns.ts: a table scan can hand out constant vectors, whose items are not per row)
    const [positions = [], idxs = [], values = [], counts = []] = (
      await this.c.runAndReadAll('SELECT pos, idx, value, count FROM sel')
    ).getColumnsJS() as number[][];
    const pods = new Map<string, PodProfile>();
    const podOf = new Map<string, PodProfile>();
    for (const p of [...selected].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const key = p.labels.pod !== undefined ? `pod:${p.labels.pod}` : `id:${p.id}`;
      let pod = pods.get(key);
      if (!pod) {
        pod = {
          source: p.source,
          format: p.format,
          unit: p.unit,
          event: p.event ?? undefined,
          stacks: new Map(),
          totalWeight: 0,
          totalSamples: 0,
          badLines: 0,
          warnings: [],
          labels: { ...p.labels },
        };
        if (p.durationNs !== null) pod.durationNs = 0;
        pods.set(key, pod);
      } else pod.source += `+${p.source}`;
      if (pod.durationNs !== undefined) pod.durationNs = p.durationNs === null ? undefined : pod.durationNs + p.durationNs;
      podOf.set(p.id, pod);
    }
    const podAt = order.map((p) => podOf.get(p.id)!);
    const folded = this.folded;
    for (let i = 0; i < positions.length; i++) {
      const pod = podAt[positions[i]!]!;
      const n = counts[i]!;
      const stack = folded[idxs[i]!]!;
      const e = pod.stacks.get(stack);
      if (e) {
        e.weight += values[i]!;
        e.samples += n;
      } else pod.stacks.set(stack, { weight: values[i]!, samples: n });
      pod.totalWeight += values[i]!;
      pod.totalSamples += n;
    }
    return [...pods.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
  }
}
