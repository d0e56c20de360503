/**
 * `recall build --config recall.config.json`: every channel of a service.
 * 1. prepare: shard each source that a sharded channel (x2i, inverted) reads
 *    into <out>/shards/<source>/, or reuse that folder when its manifest says
 *    it was made from the same inputs (sha256), key and shard count;
 * 2. build every (channel, shard) part in a piscina pool sized to the cores;
 * 3. publish one new version per channel (staged, manifest, rename, CURRENT).
 * Scale-out: `--prepare` does step 1 alone; `--shard K`
 * builds only shard K's parts into <out>/<channel>/.parts/v<N>-<build id>/ (a vector
 * channel is one part, built with shard 0); `--publish` checks every part is
 * there and publishes them. The files are byte-identical to a one-shot build.
 */
import { availableParallelism } from 'node:os';
import { type DqcReport, describeBreach, gateStaged } from '../dqc/run.js';
import { mkdir, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { fromWire, isWireError, RecallError, usage, type WireError } from '../errors.js';
import { type ChannelConfig, loadConfig, type RecallConfig, type SourceConfig } from '../config/load.js';
import { checkNoUpdatesLost, pruneVersions } from '../index/layers.js';
import { beginVersion, listVersions, type StagedVersion } from '../index/versions.js';
import { sha256File } from '../io/sha256.js';
import { writeFileAtomic } from '../io/atomic.js';
import { openDuckDB } from '../io/duckdb.js';
import { ms } from '../io/units.js';
import { expandInputs } from '../shard/inputs.js';
import { shardFileName, shardFolder } from '../shard/manifest.js';
import { shardParquet } from '../shard/shard.js';
import { buildId, PARTS, partsDir, partsRecord, publishedBuild } from './parts.js';
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
  /** Publish over live versions that hold WAL updates, dropping them. */
  discardUpdates?: boolean;
  /** After publishing, keep this many newest versions of each channel (and the layers they read). */
  keep?: number;
  /** Run the data-quality checks on the staged versions against the live ones first; publish nothing on a breach. */
  gateDqc?: boolean;
}

export interface SourceSummary {
  source: string;
  folder: string;
  reused: boolean;
  rows: number;
  elapsedMs: number;
}

export interface ChannelSummary {
  channel: string;
  kind: ChannelConfig['kind'];
  /** The version published (null when only parts were built). */
  version: number | null;
  files: number;
  /** Keys (x2i), documents (inverted) or vectors. */
  entries: number;
  /** Items (x2i), postings (inverted) or values (vector). */
  items: number;
  fileBytes: number;
  cpuMs: number;
  /** The live version was already published from the same build (same config and inputs): nothing done. */
  alreadyPublished: boolean;
  /** Versions removed by --keep. */
  removedVersions: number[];
}

export interface ConfigBuildResult {
  config: string;
  out: string;
  mode: 'all' | 'prepare' | 'shard' | 'publish';
  shard: number | null;
  sources: SourceSummary[];
  channels: ChannelSummary[];
  /** With gateDqc: the checks run (none breached, or nothing was published). */
  dqc?: { checks: number; breaches: number };
  elapsedMs: number;
}

const sharded = (ch: ChannelConfig) => {
  const d = driverOfConfig(ch);
  return d.isSharded ? d.isSharded(ch as never) : d.sharded;
};

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
    if (key(want) === key(have)) return { source: name, folder, reused: true, rows: m.rows, elapsedMs: Date.now() - t0 };
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
  return { source: name, folder, reused: false, rows: r.manifest.rows, elapsedMs: Date.now() - t0 };
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

/** Remove every parts folder of build `id` (and `.parts` itself once empty). */
async function removeParts(channelDir: string, id: string): Promise<void> {
  const root = join(channelDir, PARTS);
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (name.endsWith(`-${id}`)) await rm(join(root, name), { recursive: true, force: true });
  }
  await rmdir(root).catch(() => undefined); // only when empty: other builds' parts stay
}

async function nextVersion(channelDir: string): Promise<number> {
  return ((await listVersions(channelDir)).at(-1) ?? 0) + 1;
}

function summarize(ch: ChannelConfig, version: number | null, results: PartResult[], alreadyPublished = false): ChannelSummary {
  const files = results.flatMap((r) => r.files);
  return {
    channel: ch.name,
    kind: ch.kind,
    version,
    files: files.length,
    entries: files.reduce((a, f) => a + f.keys, 0),
    items: files.reduce((a, f) => a + f.items, 0),
    fileBytes: files.reduce((a, f) => a + f.bytes, 0),
    cpuMs: ms(results.reduce((a, r) => a + r.cpuSeconds, 0)),
    alreadyPublished,
    removedVersions: [],
  };
}

function gateBreach(report: DqcReport, config: string): RecallError {
  return new RecallError(
    'ERR_RECALL_GATE',
    `data-quality gate: ${report.breaches.map(describeBreach).join('; ')}; nothing published, the live versions stay`,
    {
      file: config,
      fix: 'inspect the candidate with `recall dqc`, or raise the threshold in the dqc section of the config',
    },
  );
}

/** --keep: prune each published channel once its new version is live. */
async function pruneChannels(result: ConfigBuildResult, keep: number | undefined): Promise<void> {
  if (keep === undefined) return;
  for (const c of result.channels) if (c.version !== null) c.removedVersions = await pruneVersions(join(result.out, c.channel), keep);
}

/** The version parameters: what the parts say, without the per-shard field. */
const versionParams = (ch: ChannelConfig, cfg: RecallConfig, p: Record<string, unknown>, id: string) => ({
  ...p,
  config: { file: cfg.file, channel: ch.name, buildId: id },
});

/** The build id of `ch` (see parts.ts): its prepared shards' digests, or its inputs' for a vector channel. */
async function channelBuildId(ch: ChannelConfig, cfg: RecallConfig, out: string): Promise<string> {
  if (!sharded(ch)) return buildId(ch, cfg, { digests: await inputDigests(cfg.sources[ch.source]!) });
  const folder = join(out, 'shards', ch.source);
  const manifest = await shardFolder(folder);
  if (!manifest)
    throw usage('ERR_RECALL_NOT_PREPARED', `${folder}: source "${ch.source}" is not sharded yet`, {
      fix: `run \`recall build --config ${cfg.file} --prepare\` first`,
    });
  return buildId(ch, cfg, { manifest });
}

/** The parts a version of `ch` needs: its index files and one record per shard job. */
function expectedParts(ch: ChannelConfig, cfg: RecallConfig): string[] {
  const jobs = sharded(ch) ? cfg.shards : 1;
  return [...expectedFiles(ch, cfg), ...Array.from({ length: jobs }, (_, k) => partsRecord(k))];
}

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
  if (o.gateDqc && (mode === 'prepare' || mode === 'shard'))
    throw usage(
      'ERR_RECALL_USAGE',
      `--gate-dqc with ${mode === 'prepare' ? '--prepare' : `--shard ${o.shard}`}: the gate checks versions before they are published, and this step publishes nothing`,
      { fix: 'pass --gate-dqc to the --publish step of a scale-out build (or to a one-shot build)' },
    );
  const result: ConfigBuildResult = { config: o.config, out, mode, shard: o.shard ?? null, sources: [], channels: [], elapsedMs: 0 };

  // 1. sources
  const needed = [...new Set(channels.filter(sharded).map((c) => c.source))];
  if (mode === 'all' || mode === 'prepare') {
    for (const s of needed) result.sources.push(await prepareSource(cfg, out, s, hooks.signal));
    if (mode === 'prepare') return { ...result, elapsedMs: Date.now() - started };
  } else if (mode === 'shard') {
    for (const s of needed) {
      if (!(await shardFolder(join(out, 'shards', s)))) {
        throw usage('ERR_RECALL_NOT_PREPARED', `${join(out, 'shards', s)}: source "${s}" is not sharded yet`, {
          fix: `run \`recall build --config ${o.config} --prepare\` first`,
        });
      }
    }
  }

  // 3'. publish parts built by separate jobs: every channel's parts are checked before any is published
  if (mode === 'publish') {
    const plans: { ch: ChannelConfig; id: string; channelDir: string; published: number | null }[] = [];
    const missing: string[] = [];
    for (const ch of channels) {
      const channelDir = join(out, ch.name);
      const id = await channelBuildId(ch, cfg, out);
      const published = await publishedBuild(channelDir, id);
      plans.push({ ch, id, channelDir, published });
      if (published !== null) continue;
      const parts = partsDir(channelDir, await nextVersion(channelDir), id);
      const have = await readdir(parts).catch(() => [] as string[]);
      const absent = expectedParts(ch, cfg).filter((f) => !have.includes(f));
      if (absent.length) missing.push(`${ch.name}: ${absent.join(', ')}`);
    }
    if (missing.length) {
      throw usage('ERR_RECALL_PARTS_MISSING', `${out}: parts missing, nothing published (${missing.join('; ')})`, {
        file: out,
        fix: `run \`recall build --config ${o.config} --shard K\` for each shard named (parts are kept per version and build id)`,
      });
    }
    const pending = plans.filter((p) => p.published === null);
    if (o.gateDqc && pending.length) {
      // the parts are the candidate: checked where they lie, so a breach moves nothing and leaves them for a later --publish
      const report = await gateStaged(
        await Promise.all(
          pending.map(async ({ ch, id, channelDir }) => {
            const version = await nextVersion(channelDir);
            const parts = partsDir(channelDir, version, id);
            return { name: ch.name, channel: ch.kind, channelDir, version, files: expectedFiles(ch, cfg).map((f) => join(parts, f)) };
          }),
        ),
        cfg.dqc,
      );
      result.dqc = { checks: report.checks.length, breaches: report.breaches.length };
      if (report.breached) throw gateBreach(report, o.config);
    }
    for (const { ch, id, channelDir, published } of plans) {
      if (published !== null) {
        result.channels.push(summarize(ch, published, [], true));
        continue;
      }
      await checkNoUpdatesLost(channelDir, o.discardUpdates);
      const staged = await beginVersion(channelDir, ch.kind);
      try {
        const parts = partsDir(channelDir, staged.version, id);
        const have = await readdir(parts);
        const absent = expectedParts(ch, cfg).filter((f) => !have.includes(f));
        if (absent.length)
          throw usage('ERR_RECALL_PARTS_MISSING', `${parts}: parts missing, ${ch.name} not published: ${absent.join(', ')}`, {
            file: parts,
            fix: 'run the shard jobs named',
          });
        const records = have.filter((f) => /^built-\d{5}\.json$/.test(f)).sort();
        const results = (
          await Promise.all(records.map(async (f) => JSON.parse(await readFile(join(parts, f), 'utf8')) as PartResult[]))
        ).flat();
        for (const f of expectedFiles(ch, cfg)) await rename(join(parts, f), join(staged.dir, f));
        const v = await staged.publish(versionParams(ch, cfg, results[0]!.params, id));
        await removeParts(channelDir, id);
        result.channels.push(summarize(ch, v.version, results));
      } catch (e) {
        await staged.abort();
        throw e;
      }
    }
    await pruneChannels(result, o.keep);
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
  const ids = new Map<string, string>();
  // Parts stop cooperatively (see part-worker.ts): on Ctrl-C, or when another part failed.
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const cancelParts = () => {
    Atomics.store(cancel, 0, 1);
  };
  hooks.signal?.addEventListener('abort', cancelParts, { once: true });
  try {
    const jobs: { ch: ChannelConfig; task: PartTask }[] = [];
    for (const ch of channels) {
      const channelDir = join(out, ch.name);
      const id = await channelBuildId(ch, cfg, out);
      ids.set(ch.name, id);
      if (mode === 'all') {
        await checkNoUpdatesLost(channelDir, o.discardUpdates);
        const s = await beginVersion(channelDir, ch.kind);
        staged.set(ch.name, s);
        for (const task of tasksFor(ch, cfg, out, s.dir, s.version)) jobs.push({ ch, task });
      } else {
        // a job retried (or run late) after --publish took this build: nothing left to do
        const published = await publishedBuild(channelDir, id);
        if (published !== null) {
          if (tasksFor(ch, cfg, out, channelDir, published, o.shard).length) result.channels.push(summarize(ch, published, [], true));
          continue;
        }
        const version = await nextVersion(channelDir);
        const dir = partsDir(channelDir, version, id);
        await mkdir(dir, { recursive: true });
        for (const task of tasksFor(ch, cfg, out, dir, version, o.shard)) jobs.push({ ch, task });
      }
    }
    let done = 0;
    let firstFailure: { error: unknown } | undefined;
    // every part settles before anything is removed: a part still writing into a removed folder
    // (or a worker terminated under it) is what must not happen
    const settled = await Promise.allSettled(
      jobs.map(async (j) => {
        let r: PartResult;
        try {
          if (hooks.signal?.aborted) cancelParts();
          const out = (await pool.run({ ...j.task, cancel })) as PartResult | WireError;
          if (isWireError(out)) throw fromWire(out);
          r = out;
        } catch (e) {
          // a duplicate whose parts folder --publish took away under it: the build is published
          const id = ids.get(j.ch.name)!;
          const published = mode === 'shard' ? await publishedBuild(join(out, j.ch.name), id) : null;
          if (published === null) {
            firstFailure ??= { error: e };
            cancelParts();
            throw e;
          }
          await removeParts(join(out, j.ch.name), id);
          return { ch: j.ch, task: j.task, r: null, published };
        }
        hooks.onPart?.(++done, jobs.length);
        return { ch: j.ch, task: j.task, r, published: null };
      }),
    );
    if (firstFailure) throw firstFailure.error;
    hooks.signal?.throwIfAborted();
    const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (o.gateDqc && staged.size) {
      // before any CURRENT moves: a breach leaves every live version in place
      const report = await gateStaged(
        await Promise.all(
          channels
            .filter((ch) => staged.has(ch.name))
            .map(async (ch) => {
              const s = staged.get(ch.name)!;
              return {
                name: ch.name,
                channel: ch.kind,
                channelDir: join(out, ch.name),
                version: s.version,
                files: (await readdir(s.dir)).map((f) => join(s.dir, f)),
              };
            }),
        ),
        cfg.dqc,
      );
      result.dqc = { checks: report.checks.length, breaches: report.breaches.length };
      if (report.breached) throw gateBreach(report, o.config);
    }
    for (const ch of channels) {
      const all = results.filter((x) => x.ch === ch);
      const mine = all.flatMap((x) => (x.r ? [{ task: x.task, r: x.r }] : []));
      const s = staged.get(ch.name);
      const id = ids.get(ch.name)!;
      const published = all.find((x) => x.published !== null)?.published;
      if (s) {
        const v = await s.publish(versionParams(ch, cfg, mine[0]?.r.params ?? {}, id));
        result.channels.push(
          summarize(
            ch,
            v.version,
            mine.map((x) => x.r),
          ),
        );
      } else if (published !== undefined && published !== null) {
        result.channels.push(summarize(ch, published, [], true));
      } else if (mine.length) {
        // a shard job: record what it built for --publish (one file per job: jobs run side by side)
        const recorded = await writeFileAtomic(
          join(mine[0]!.task.target.dir, partsRecord(o.shard ?? 0)),
          JSON.stringify(mine.map((x) => x.r)),
        ).catch((e: unknown) => e);
        // published while this job ran (a late duplicate): what it wrote is garbage
        const late = await publishedBuild(join(out, ch.name), id);
        if (recorded !== undefined && late === null) throw recorded;
        if (late !== null) {
          await removeParts(join(out, ch.name), id);
          result.channels.push(summarize(ch, late, [], true));
        } else
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
    hooks.signal?.removeEventListener('abort', cancelParts);
    await pool.destroy();
  }
  if (mode !== 'shard') await pruneChannels(result, o.keep);
  return { ...result, elapsedMs: Date.now() - started };
}

export interface BuildPlanPart {
  channel: string;
  kind: ChannelConfig['kind'];
  shard: number;
  /** What the part reads: the prepared shard file, or every input of an unsharded channel. */
  inputs: string[];
  /** The index file the part writes (its name inside the version). */
  output: string;
  /** The command a scheduler runs for it (one command builds every channel's part of shard K). */
  command: string[];
}

export interface BuildPlan {
  config: string;
  out: string;
  shards: number;
  steps: { step: 'prepare' | 'shard' | 'publish'; command: string[]; jobs: number }[];
  parts: BuildPlanPart[];
}

/** The parts of a distributed build, for a scheduler to fan out (`recall build --config --plan`). */
export async function planBuild(o: Pick<ConfigBuildOptions, 'config' | 'out' | 'only'>): Promise<BuildPlan> {
  const cfg = await loadConfig(o.config);
  const out = o.out ?? cfg.out;
  const channels = o.only?.length ? cfg.channels.filter((c) => o.only!.includes(c.name)) : cfg.channels;
  const base = [
    'recall',
    'build',
    '--config',
    o.config,
    ...(o.out ? ['--out', o.out] : []),
    ...(o.only?.length ? ['--only', o.only.join(',')] : []),
  ];
  const parts: BuildPlanPart[] = [];
  for (const ch of channels) {
    const files = expectedFiles(ch, cfg);
    const src = cfg.sources[ch.source]!;
    files.forEach((output, shard) => {
      const inputs = sharded(ch) ? [join(out, 'shards', ch.source, shardFileName(shard, cfg.shards))] : [...src.inputs];
      parts.push({ channel: ch.name, kind: ch.kind, shard, inputs, output, command: [...base, '--shard', String(shard)] });
    });
  }
  return {
    config: o.config,
    out,
    shards: cfg.shards,
    steps: [
      { step: 'prepare', command: [...base, '--prepare'], jobs: 1 },
      { step: 'shard', command: [...base, '--shard', 'K'], jobs: cfg.shards },
      { step: 'publish', command: [...base, '--publish'], jobs: 1 },
    ],
    parts,
  };
}
