/**
 * `recall profile ingest`: parse profiles with the existing readers and append them to the store
 * (layout.ts). Everything is parsed and checked before anything is written: a missing app or
 * version label is exit 2, an unparsable file exit 3, and in both cases nothing is stored.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { usage } from '../../errors.js';
import { syncDir, tempPathFor, trackTemp, writeFileAtomic } from '../../io/atomic.js';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { type DuckDB, duckdb, literal, scratchDuckDB } from '../../io/duckdb.js';
import type { PodProfile } from '../model.js';
import { forEachPod, type ReadJob } from '../run.js';
import { lockOrFail } from '../../io/lock.js';
import { collectOrphans } from './gc.js';
import { COMMITS, type CommitRecord, INGESTS, newIngestId, openStore, partition } from './layout.js';

export interface IngestOptions {
  store: string;
  labels: Record<string, string>;
  /** Start time of every profile (ISO); default: the file's modification time. */
  time?: string;
  /** '{app}/{version}/{pod}.perf.gz': labels from the tail of each path. */
  labelsFrom?: string;
}

export interface IngestResult {
  store: string;
  ingestId: string | null;
  added: Array<{ id: string; source: string; labels: Record<string, string>; samples: number; stacks: number; day: string }>;
  skipped: Array<{ id: string; source: string; reason: 'already in the store' | 'duplicate input' }>;
  newStacks: number;
  /** Files of killed ingests removed before this one (gc.ts). */
  orphansRemoved: number;
  bytesRead: number;
  filesWritten: string[];
  warnings: string[];
}

/** Files under the given paths (folders walked, dot files skipped), in a stable order. */
export async function expandInputs(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (!s.isDirectory()) return void out.push(p);
    for (const n of (await readdir(p)).sort()) if (!n.startsWith('.')) await walk(join(p, n));
  };
  for (const p of paths) await walk(p);
  return out;
}

/** `{name}` = one path segment (or part of one), `*` = anything inside a segment. */
export function labelPattern(pattern: string): (path: string) => Record<string, string> | null {
  const names: string[] = [];
  let re = '';
  for (const part of pattern.split(/(\{[A-Za-z_][\w.-]*\}|\*)/)) {
    if (part === '*') re += '[^/]*';
    else if (/^\{.+\}$/.test(part)) {
      names.push(part.slice(1, -1));
      re += '([^/]+?)';
    } else re += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`(?:^|/)${re}$`);
  return (path) => {
    const m = rx.exec(path.split(sep).join('/'));
    if (!m) return null;
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
  };
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

/** Stable across runs and machines: content hash of the folded stack. */
export function stackId(folded: string): bigint {
  return sha256(folded).readBigInt64BE(0);
}

/** The source file of each frame of a folded stack, unit-separator joined ('' unknown); null when none is known. */
function filesOfStack(stack: string, fileOf: Map<string, string>): string | null {
  let any = false;
  const files = stack.split(';').map((f) => {
    const file = fileOf.get(f);
    if (file === undefined) return '';
    any = true;
    return file.replaceAll('\x1f', ' ');
  });
  return any ? files.join('\x1f') : null;
}

/** A parsed pod without its stack map: one row per stack (id, value, count), plus its totals. */
type PodRows = Omit<PodProfile, 'stacks' | 'frameFiles'> & { ids: BigInt64Array; weights: Float64Array; counts: BigInt64Array };

/** `pod`'s rows; a stack seen for the first time in this ingest is hashed and listed in `firstSeen`. */
function podRows(
  pod: PodProfile,
  idOf: Map<string, bigint>,
  firstSeen: Array<{ id: bigint; stack: string; files: string | null }>,
): PodRows {
  const { stacks: map, frameFiles, ...rest } = pod;
  const ids = new BigInt64Array(map.size);
  const weights = new Float64Array(map.size);
  const counts = new BigInt64Array(map.size);
  let r = 0;
  for (const [stack, cnt] of map) {
    let id = idOf.get(stack);
    if (id === undefined) {
      id = stackId(stack);
      idOf.set(stack, id);
      firstSeen.push({ id, stack, files: frameFiles ? filesOfStack(stack, frameFiles) : null });
    }
    ids[r] = id;
    weights[r] = cnt.weight;
    counts[r++] = BigInt(Math.round(cnt.samples));
  }
  return { ...rest, ids, weights, counts };
}

export function profileId(sourceSha: string, labels: Record<string, string>): string {
  const canon = JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
  return sha256(`${sourceSha}\n${canon}`).toString('hex').slice(0, 16);
}

interface Pending {
  source: string;
  sha: string;
  labels: Record<string, string>;
  id: string;
  time: Date;
}

export async function ingest(inputs: string[], opt: IngestOptions, job: ReadJob): Promise<IngestResult> {
  let fixedTime: Date | undefined;
  if (opt.time !== undefined) {
    fixedTime = new Date(opt.time);
    if (Number.isNaN(fixedTime.getTime()))
      throw usage('ERR_RECALL_FLAG', `--time ${opt.time} is not an ISO time`, { fix: 'pass e.g. --time 2026-12-01T10:00:00Z' });
  }
  const fromPath = opt.labelsFrom ? labelPattern(opt.labelsFrom) : null;
  const files = await expandInputs(inputs);
  if (!files.length)
    throw usage('ERR_RECALL_NO_INPUT', 'no profile files under the given paths', { fix: 'pass profile files or folders holding them' });
  const view = await openStore(opt.store);
  const result: IngestResult = {
    store: opt.store,
    ingestId: null,
    added: [],
    skipped: [],
    newStacks: 0,
    orphansRemoved: 0,
    bytesRead: 0,
    filesWritten: [],
    warnings: [],
  };

  // 1. Labels and identity of every file (no parsing yet: a missing label is exit 2 before any work).
  const pending: Pending[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    let labels = { ...opt.labels };
    if (fromPath) {
      const rel = inputs.some((i) => f.startsWith(i + sep)) ? relative(inputs.find((i) => f.startsWith(i + sep))!, f) : f;
      const got = fromPath(rel) ?? fromPath(f);
      if (!got)
        throw usage('ERR_RECALL_LABELS_FROM', `${f}: path does not match --labels-from '${opt.labelsFrom}'`, {
          file: f,
          fix: "write the pattern for the path's tail, e.g. '{app}/{version}/{pod}.perf.gz'",
        });
      labels = { ...got, ...opt.labels };
    }
    const st = await stat(f);
    result.bytesRead += st.size;
    pending.push({ source: f, sha: '', labels, id: '', time: fixedTime ?? st.mtime });
  }

  // 2. Parse everything (exit 3 on a file where nothing parses: nothing stored); the source's
  // sha256 is taken in the same read. Each parsed file is cut down to its rows at once (typed
  // arrays, outside the JS heap), so only one file's stack map is alive at a time: less memory
  // for a folder of pods and less for the collector to walk.
  const todo: Array<{ p: Pending; pod: PodRows }> = [];
  // Pods of one service share most stacks: each distinct stack is hashed once per ingest.
  const idOf = new Map<string, bigint>();
  const firstSeen: Array<{ id: bigint; stack: string; files: string | null }> = [];
  await forEachPod(
    pending.map((p) => p.source),
    { ...job, read: { ...job.read, sha256: true } },
    'parsing',
    (pod, i) => {
      const p = pending[i]!;
      p.labels = { ...pod.labels, ...p.labels };
      p.sha = pod.sourceSha256!;
      for (const k of ['app', 'version'])
        if (!p.labels[k])
          throw usage('ERR_RECALL_LABEL_MISSING', `${p.source}: no ${k} label`, {
            file: p.source,
            fix: `pass --label ${k}=... or --labels-from '{app}/{version}/{pod}.perf'`,
          });
      p.id = profileId(p.sha, p.labels);
      result.warnings.push(...pod.warnings);
      if (view.owner.has(p.id)) result.skipped.push({ id: p.id, source: p.source, reason: 'already in the store' });
      else if (seen.has(p.id)) result.skipped.push({ id: p.id, source: p.source, reason: 'duplicate input' });
      else {
        seen.add(p.id);
        todo.push({ p, pod: podRows(pod, idOf, firstSeen) });
      }
    },
  );
  if (!todo.length) return result;
  job.signal?.throwIfAborted();

  // 3. Write this ingest's files, then its commit record, holding this ingest's lock throughout
  // (what tells a collection that its files are not orphans); first, what dead ingests left.
  result.orphansRemoved = await collectOrphans(view);
  const ingestId = newIngestId();
  result.ingestId = ingestId;
  await mkdir(join(opt.store, INGESTS), { recursive: true });
  const running = lockOrFail(join(opt.store, INGESTS, `${ingestId}.lock`), `ingest ${ingestId}`);
  let c: DuckDBConnection;
  try {
    c = await (await scratchDuckDB()).connect();
  } catch (e) {
    running.release();
    throw e;
  }
  const d = await duckdb();
  const temps: string[] = [];
  try {
    const known = new Set<bigint>();
    if (view.files.stacks.length) {
      const r = await c.runAndReadAll(`SELECT DISTINCT stack_id FROM read_parquet([${view.files.stacks.map(literal).join(', ')}])`);
      for (const [v] of r.getRowsJS()) known.add(v as bigint);
    }
    await c.run(`CREATE TEMP TABLE p (ord INTEGER, profile_id VARCHAR, app VARCHAR, version VARCHAR, day VARCHAR, start_time VARCHAR, labels VARCHAR, format VARCHAR,
      event VARCHAR, unit VARCHAR, duration_ns BIGINT, period DOUBLE, total_value DOUBLE, total_samples BIGINT, stacks BIGINT, source VARCHAR, source_sha256 VARCHAR, ingest_id VARCHAR)`);
    // A sample row names its profile by ordinal (p.ord): appending a text column costs one native
    // call per value, and app, day and profile id are constant within a profile.
    await c.run('CREATE TEMP TABLE s (ord INTEGER, stack_id BIGINT, value DOUBLE, count BIGINT)');
    await c.run('CREATE TEMP TABLE k (stack_id BIGINT, stack VARCHAR, files VARCHAR)');
    const { VARCHAR, BIGINT, DOUBLE, INTEGER } = d;
    const V = VARCHAR;
    const profiles = await rowsInto(c, d, 'p', [INTEGER, V, V, V, V, V, V, V, V, V, BIGINT, DOUBLE, DOUBLE, BIGINT, BIGINT, V, V, V]);
    const samples = await rowsInto(c, d, 's', [INTEGER, BIGINT, DOUBLE, BIGINT]);
    const stacks = await rowsInto(c, d, 'k', [BIGINT, V, V]);
    const groups = new Map<string, { app: string; day: string }>();
    for (const { id, stack, files } of firstSeen) {
      if (known.has(id)) continue;
      result.newStacks += 1;
      stacks.push(id, stack, files);
    }
    for (const [ord, { p, pod }] of todo.entries()) {
      const app = p.labels.app!;
      const day = p.time.toISOString().slice(0, 10);
      groups.set(`${app}\0${day}`, { app, day });
      const { ids, weights, counts } = pod;
      for (let r = 0; r < ids.length; r++) samples.push(ord, ids[r]!, weights[r]!, counts[r]!);
      profiles.push(
        ord,
        p.id,
        app,
        p.labels.version!,
        day,
        p.time.toISOString(),
        JSON.stringify(p.labels),
        pod.format,
        pod.event ?? null,
        pod.unit,
        pod.durationNs !== undefined ? BigInt(Math.round(pod.durationNs)) : null,
        pod.totalSamples ? pod.totalWeight / pod.totalSamples : null,
        pod.totalWeight,
        BigInt(Math.round(pod.totalSamples)),
        BigInt(ids.length),
        p.source,
        p.sha,
        ingestId,
      );
      result.added.push({ id: p.id, source: p.source, labels: p.labels, samples: pod.totalSamples, stacks: ids.length, day });
    }
    for (const t of [profiles, samples, stacks]) t.close();

    const files: CommitRecord['files'] = { profiles: [], samples: [], stacks: [] };
    const write = async (rel: string, select: string) => {
      const target = join(opt.store, rel);
      await mkdir(dirname(target), { recursive: true });
      const temp = tempPathFor(target);
      temps.push(temp);
      const untrack = trackTemp(temp);
      try {
        await c.run(`COPY (${select}) TO ${literal(temp)} (FORMAT parquet, COMPRESSION zstd)`);
        const fd = openSync(temp, 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        job.signal?.throwIfAborted();
        await rename(temp, target);
        syncDir(dirname(target));
      } finally {
        untrack();
      }
      result.filesWritten.push(rel);
      return rel;
    };
    for (const { app, day } of groups.values()) {
      const where = `WHERE app = ${literal(app)} AND day = ${literal(day)}`;
      const part = join(`app=${partition(app)}`, `day=${day}`);
      files.profiles.push(
        await write(
          join('profiles', part, `${ingestId}.parquet`),
          `SELECT profile_id, app, version, CAST(day AS DATE) AS day, CAST(start_time AS TIMESTAMP) AS start_time, labels, format, event, unit, duration_ns, period, total_value, total_samples, stacks, source, source_sha256, ingest_id FROM p ${where} ORDER BY profile_id`,
        ),
      );
      files.samples.push(
        await write(
          join('samples', part, `${ingestId}.parquet`),
          `SELECT profile_id, stack_id, value, count FROM s JOIN p USING (ord) ${where} ORDER BY profile_id, stack_id`,
        ),
      );
    }
    if (result.newStacks)
      files.stacks.push(
        await write(
          join('stacks', `${ingestId}.parquet`),
          `SELECT stack_id, string_split(stack, ';') AS frames,
            CASE WHEN files IS NULL THEN NULL ELSE list_transform(string_split(files, chr(31)), f -> nullif(f, '')) END AS files
            FROM k ORDER BY stack_id`,
        ),
      );
    const record: CommitRecord = {
      version: 1,
      ingestId,
      committed: new Date().toISOString(),
      files,
      profiles: todo.map(({ p }) => ({ id: p.id, source: p.source, sha256: p.sha, labels: p.labels })),
    };
    job.signal?.throwIfAborted();
    await mkdir(join(opt.store, COMMITS), { recursive: true });
    // The commit point: before this rename the ingest is invisible, after it complete.
    await writeFileAtomic(join(opt.store, COMMITS, `${ingestId}.json`), `${JSON.stringify(record, null, 1)}\n`);
  } catch (e) {
    // Interrupted or failed before the commit: remove what this ingest wrote (unreferenced anyway).
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    await Promise.all(result.filesWritten.map((f) => rm(join(opt.store, f), { force: true })));
    throw e;
  } finally {
    // Closing the connection drops its TEMP tables.
    c.closeSync();
    running.release();
  }
  return result;
}

/** DuckDB's vector size: the most rows a data chunk holds. */
const CHUNK_ROWS = 2048;

/**
 * Rows appended to table `name` a full data chunk (2048 rows) at a time: a chunk per profile
 * would cost a native chunk and flush for every few hundred rows. A class, so V8 optimises `push`
 * once per process rather than once per ingest.
 */
class ChunkAppender {
  private readonly cols: unknown[][];

  constructor(
    private readonly appender: DuckDBAppender,
    private readonly d: DuckDB,
    private readonly types: ColumnTypes,
  ) {
    this.cols = types.map(() => []);
  }

  push(...values: unknown[]): void {
    for (let i = 0; i < values.length; i++) this.cols[i]!.push(values[i]);
    if (this.cols[0]!.length === CHUNK_ROWS) this.flush();
  }

  close(): void {
    this.flush();
    this.appender.closeSync();
  }

  private flush(): void {
    const n = this.cols[0]!.length;
    if (!n) return;
    const chunk = this.d.DuckDBDataChunk.create(this.types, n);
    chunk.setColumns(this.cols as never);
    this.appender.appendDataChunk(chunk);
    for (const col of this.cols) col.length = 0;
  }
}

type ColumnTypes = Parameters<DuckDB['DuckDBDataChunk']['create']>[0];

async function rowsInto(c: DuckDBConnection, d: DuckDB, name: string, types: ColumnTypes): Promise<ChunkAppender> {
  return new ChunkAppender(await c.createAppender(name, 'main', 'temp'), d, types);
}
