/**
 * `recall build --config recall.config.json`: every channel of a service.
 * 1. prepare: shard each source that a sharded channel (x2i, inverted) reads
 *    into <out>/shards/<source>/, or reuse that folder when its manifest says
 *    it was made from the same inputs (sha256), key and shard count;
 * 2. build every (channel, shard) part in a piscina pool sized to the cores;
 * 3. publish one new version per channel (staged, manifest, rename, CURRENT).
 * Scale-out: `--prepare` does step 1 alone; `--shard K`
 * builds only shard K's parts into <out>/<channel>/.parts/v<N>/ (a vector
 * channel is one part, built with shard 0); `--publish` checks every part is
 * there and publishes them. The files are byte-identical to a one-shot build.
 */
import { availableParallelism } from 'node:os';
import { mkdir, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { badInput, RecallError, usage } from '../errors.js';
import { type ChannelConfig, loadConfig, type RecallConfig, type SourceConfig } from '../config/load.js';
import { beginVersion, listVersions, type StagedVersion, versionName } from '../index/versions.js';
import { sha256File } from '../io/sha256.js';
import { writeFileAtomic } from '../io/atomic.js';
import { openDuckDB } from '../io/duckdb.js';
import { expandInputs } from '../shard/inputs.js';
import { shardFileName, shardFolder } from '../shard/manifest.js';
import { shardParquet } from '../shard/shard.js';
import type { PartResult, PartTask } from './part-worker.js';
import { driverOfConfig } from '../channels/registry.js';

export interface ConfigBuildOptions {
  config: string;
  /** Overrides the config's `out`. */
  out?: string;
  /** Channel names to build (default: all). */
  only?: string[];
  /** Build only this shard's parts (a job of a distributed build). */
  shard?: number;
  /** Only shard the sources. */
  prepare?: boolean;
  /** Publish the parts built by `--shard` jobs. */
  publish?: boolean;
  threads?: number;
}

export interface SourceSummary {
  source: string;
  folder: string;
  reused: boolean;
  rows: number;
  seconds: number;
}

export interface ChannelSummary {
  channel: string;
  kind: ChannelConfig['kind'];
  /** The version published (null when only parts were built). */
  version: number | null;
  files: number;
  /** Keys (x2i), documents (inverted) or vectors. */
  keys: number;
  /** Items (x2i), postings (inverted) or values (vector). */
  items: number;
  bytes: number;
  cpuSeconds: number;
}

export interface ConfigBuildResult {
  config: string;
  out: string;
  mode: 'all' | 'prepare' | 'shard' | 'publish';
  shard: number | null;
  sources: SourceSummary[];
  channels: ChannelSummary[];
  elapsedMs: number;
}

const sharded = (ch: ChannelConfig) => driverOfConfig(ch).sharded;
const PARTS = '.parts';
/** What one shard job built (its files and the version parameters), beside its parts. */
const partsRecord = (shard: number) => `built-${String(shard).padStart(5, '0')}.json`;

/** The source's inputs with their sha256, as a shard manifest records them. */
async function inputDigests(s: SourceConfig): Promise<{ path: string; sha256: string }[]> {
  const db = await openDuckDB({ threads: 1 });
  const c = await db.connect();
  try {
    const files = await expandInputs(c, s.inputs);
    return Promise.all(files.map(async (path) => ({ path, sha256: await sha256File(path) })));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

async function prepareSource(cfg: RecallConfig, out: string, name: string, signal?: AbortSignal): Promise<SourceSummary> {
  const t0 = Date.now();
  const s = cfg.sources[name]!;
  const folder = join(out, 'shards', name);
  const m = await shardFolder(folder);
  if (m && m.shardCount === cfg.shards && m.key.column === s.key && (m.where ?? null) === (s.where ?? null)) {
    const want = await inputDigests(s);
    const have = m.inputs.map((i) => ({ path: i.path, sha256: i.sha256 }));
    const key = (x: { path: string; sha256: string }[]) => JSON.stringify([...x].sort((a, b) => a.path.localeCompare(b.path)));
    if (key(want) === key(have)) return { source: name, folder, reused: true, rows: m.rows, seconds: (Date.now() - t0) / 1000 };
  }
  const r = await shardParquet(
    {
      inputs: s.inputs,
      key: s.key,
      shards: cfg.shards,
      out: folder,
      where: s.where,
      overwrite: true,
      command: `recall build --config ${cfg.file}`,
    },
    { signal },
  );
  return { source: name, folder, reused: false, rows: r.manifest.rows, seconds: (Date.now() - t0) / 1000 };
}

/** The part tasks of one channel (every shard, or one), writing into `dir` under `version`. */
function tasksFor(ch: ChannelConfig, cfg: RecallConfig, out: string, dir: string, version: number, shard?: number): PartTask[] {
  const src = cfg.sources[ch.source]!;
  const folder = join(out, 'shards', ch.source);
  const target = { dir, version };
  const shards = shard === undefined ? Array.from({ length: cfg.shards }, (_, k) => k) : [shard];
  // the config's source, not a path: a version is the same bytes wherever the build ran
  const label = `config source "${ch.source}" (${cfg.shards} shards by ${src.key})`;
  const driver = driverOfConfig(ch);
  return driver
    .partTasks({ channel: ch, config: cfg, shardFolder: folder, shards, dir, sourceLabel: label })
    .map((options) => ({ kind: driver.kind, options, target }));
}

/** The files a complete version of `ch` holds. */
function expectedFiles(ch: ChannelConfig, cfg: RecallConfig): string[] {
  const ext = driverOfConfig(ch).fileExt;
  const n = sharded(ch) ? cfg.shards : 1;
  return Array.from({ length: n }, (_, k) => shardFileName(k, n, ext));
}

async function nextVersion(channelDir: string): Promise<number> {
  return ((await listVersions(channelDir)).at(-1) ?? 0) + 1;
}

function summarize(ch: ChannelConfig, version: number | null, results: PartResult[]): ChannelSummary {
  const files = results.flatMap((r) => r.files);
  return {
    channel: ch.name,
    kind: ch.kind,
    version,
    files: files.length,
    keys: files.reduce((a, f) => a + f.keys, 0),
    items: files.reduce((a, f) => a + f.items, 0),
    bytes: files.reduce((a, f) => a + f.bytes, 0),
    cpuSeconds: results.reduce((a, r) => a + r.cpuSeconds, 0),
  };
}

/** The version parameters: what the parts say, without the per-shard field. */
const versionParams = (ch: ChannelConfig, cfg: RecallConfig, p: Record<string, unknown>) => ({
  ...p,
  config: { file: cfg.file, channel: ch.name },
});

export async function buildFromConfig(
  o: ConfigBuildOptions,
  hooks: { signal?: AbortSignal; onPart?: (done: number, total: number) => void } = {},
): Promise<ConfigBuildResult> {
  const started = Date.now();
  const cfg = await loadConfig(o.config);
  const out = o.out ?? cfg.out;
  const channels = o.only?.length ? cfg.channels.filter((c) => o.only!.includes(c.name)) : cfg.channels;
  const unknown = (o.only ?? []).filter((n) => !cfg.channels.some((c) => c.name === n));
  if (unknown.length)
    throw usage(
      'ERR_RECALL_USAGE',
      `--only ${unknown.join(',')}: no such channel in ${o.config} (channels: ${cfg.channels.map((c) => c.name).join(', ')})`,
      { fix: 'pass channel names from the config' },
    );
  if (o.shard !== undefined && o.shard >= cfg.shards)
    throw usage('ERR_RECALL_USAGE', `--shard ${o.shard} is out of range: the config has ${cfg.shards} shards`, {
      fix: `pass 0..${cfg.shards - 1}`,
    });
  const mode: ConfigBuildResult['mode'] = o.prepare ? 'prepare' : o.publish ? 'publish' : o.shard !== undefined ? 'shard' : 'all';
  const result: ConfigBuildResult = { config: o.config, out, mode, shard: o.shard ?? null, sources: [], channels: [], elapsedMs: 0 };

  // 1. sources
  const needed = [...new Set(channels.filter(sharded).map((c) => c.source))];
  if (mode === 'all' || mode === 'prepare') {
    for (const s of needed) result.sources.push(await prepareSource(cfg, out, s, hooks.signal));
    if (mode === 'prepare') return { ...result, elapsedMs: Date.now() - started };
  } else if (mode === 'shard') {
    for (const s of needed) {
      if (!(await shardFolder(join(out, 'shards', s)))) {
        throw badInput('ERR_RECALL_NOT_PREPARED', `${join(out, 'shards', s)}: source "${s}" is not sharded yet`, {
          fix: `run \`recall build --config ${o.config} --prepare\` first`,
        });
      }
    }
  }

  // 3'. publish parts built by separate jobs
  if (mode === 'publish') {
    for (const ch of channels) {
      const channelDir = join(out, ch.name);
      const staged = await beginVersion(channelDir, ch.kind);
      try {
        const parts = join(channelDir, PARTS, versionName(staged.version));
        const have = await readdir(parts).catch(() => [] as string[]);
        const missing = expectedFiles(ch, cfg).filter((f) => !have.includes(f));
        if (missing.length) {
          throw badInput(
            'ERR_RECALL_PARTS_MISSING',
            `${parts}: ${missing.length} part(s) of ${ch.name} v${staged.version} missing: ${missing.join(', ')}`,
            {
              file: parts,
              fix: 'run `recall build --config ... --shard K` for each missing shard (parts are built for the next version number)',
            },
          );
        }
        const records = have.filter((f) => /^built-\d{5}\.json$/.test(f)).sort();
        const results = (
          await Promise.all(records.map(async (f) => JSON.parse(await readFile(join(parts, f), 'utf8')) as PartResult[]))
        ).flat();
        for (const f of expectedFiles(ch, cfg)) await rename(join(parts, f), join(staged.dir, f));
        const v = await staged.publish(versionParams(ch, cfg, results[0]!.params));
        await rm(parts, { recursive: true, force: true });
        await rmdir(join(channelDir, PARTS)).catch(() => undefined); // only when empty (other versions' parts stay)
        result.channels.push(summarize(ch, v.version, results));
      } catch (e) {
        await staged.abort();
        throw e;
      }
    }
    return { ...result, elapsedMs: Date.now() - started };
  }

  // 2. parts, in a pool
  const threads = o.threads ?? cfg.threads ?? availableParallelism();
  const pool = new Piscina({
    filename: new URL('./part-worker.js', import.meta.url).href,
    maxThreads: threads,
    minThreads: 1,
    idleTimeout: 100,
  });
  const staged = new Map<string, StagedVersion>();
  try {
    const jobs: { ch: ChannelConfig; task: PartTask }[] = [];
    for (const ch of channels) {
      const channelDir = join(out, ch.name);
      if (mode === 'all') {
        const s = await beginVersion(channelDir, ch.kind);
        staged.set(ch.name, s);
        for (const task of tasksFor(ch, cfg, out, s.dir, s.version)) jobs.push({ ch, task });
      } else {
        const version = await nextVersion(channelDir);
        const dir = join(channelDir, PARTS, versionName(version));
        await mkdir(dir, { recursive: true });
        for (const task of tasksFor(ch, cfg, out, dir, version, o.shard)) jobs.push({ ch, task });
      }
    }
    let done = 0;
    const results = await Promise.all(
      jobs.map(async (j) => {
        const r = (await pool.run(j.task, { signal: hooks.signal })) as PartResult;
        hooks.onPart?.(++done, jobs.length);
        return { ch: j.ch, task: j.task, r };
      }),
    );
    for (const ch of channels) {
      const mine = results.filter((x) => x.ch === ch);
      const s = staged.get(ch.name);
      if (s) {
        const v = await s.publish(versionParams(ch, cfg, mine[0]?.r.params ?? {}));
        result.channels.push(
          summarize(
            ch,
            v.version,
            mine.map((x) => x.r),
          ),
        );
      } else if (mine.length) {
        // a shard job: record what it built for --publish (one file per job: jobs run side by side)
        await writeFileAtomic(join(mine[0]!.task.target.dir, partsRecord(o.shard ?? 0)), JSON.stringify(mine.map((x) => x.r)));
        result.channels.push(
          summarize(
            ch,
            null,
            mine.map((x) => x.r),
          ),
        );
      }
    }
  } catch (e) {
    for (const s of staged.values()) await s.abort();
    if (hooks.signal?.aborted && !(e instanceof RecallError)) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    throw e;
  } finally {
    await pool.destroy();
  }
  return { ...result, elapsedMs: Date.now() - started };
}
