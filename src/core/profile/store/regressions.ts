/**
 * `recall profile regressions`: the daily inspection. Consecutive versions of an app (ordered by
 * first-seen time) are diffed with the gate of `profile diff` (threshold, z on sample counts, pod
 * agreement). A gated rise is then dropped when it goes away again (back within threshold/2 of the
 * old level within --confirm N later versions) or when it is only cost moving between a function
 * and its callers, callees or siblings (their self share fell by at least half the rise beyond
 * the fall the rise itself causes). Each regression lists the commits between the versions'
 * `commit` labels, ranked by whether they touch the files defining the function. Lifecycle state
 * lives in STORE/regressions.json (written atomically, read-merge-written under a flock).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput, usage } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { lockWait } from '../../io/lock.js';
import { DEFAULT_THRESHOLDS, diffProfiles, type DiffOptions, type DiffSummary } from '../diff.js';
import type { DiffThresholds, FunctionDelta, PodProfile } from '../model.js';
import { FrameNormalizer } from '../normalize.js';
import { StoreReader } from './query.js';

export interface Candidate {
  commit: string;
  subject: string;
  author: string;
  files: string[];
  touchesDefinition: boolean;
  mentionsFunction: boolean;
  score: number;
}

export interface Regression {
  id: string;
  function: string;
  version: string;
  previousVersion: string;
  firstSeen: string;
  deltaPp: number;
  baseSharePct: number;
  headSharePct: number;
  z: number;
  podsAgree: boolean | null;
  /** --confirm N later versions exist and none went back. */
  confirmed: boolean;
  /** Share (metric) per version of the scan, for the sparkline. */
  series: Array<{ version: string; sharePct: number | null }>;
  definedIn: string[];
  /** Where definedIn comes from: the profiles' source files, or a search for the name in the repository. */
  definedBy: 'profile' | 'name-search' | null;
  candidates: Candidate[];
  status: Status;
  isNew: boolean;
  diffCommand: string;
  /** The diff page written for it (--diff-dir), relative to the HTML report when both are given. */
  diffPage: string | null;
}

export interface Suppressed {
  function: string;
  version: string;
  previousVersion: string;
  deltaPp: number;
  reason: 'went-away' | 'cost-shift';
  detail: string;
}

export type Status = 'open' | 'fixed' | 'accepted';

export interface LifecycleEntry {
  id: string;
  app: string;
  function: string;
  firstVersion: string;
  status: Status;
  lastSeen: string;
  candidates: string[];
  reason?: string;
  updated: string;
}

export interface RegressionsResult {
  store: string;
  app: string;
  versions: Array<{ version: string; firstSeen: string; pods: number; commit: string | null }>;
  metric: 'self' | 'total';
  thresholds: DiffThresholds;
  confirm: number;
  regressions: Regression[];
  suppressed: Suppressed[];
  lifecycle: LifecycleEntry[];
  newRegressions: number;
}

export interface RegressionsOptions {
  store: string;
  app: string;
  since?: string;
  repo?: string;
  confirm: number;
  thresholds: Partial<DiffThresholds>;
  normalize?: DiffOptions['normalize'];
}

const STATE = 'regressions.json';

async function loadState(store: string): Promise<LifecycleEntry[]> {
  try {
    return (JSON.parse(await readFile(join(store, STATE), 'utf8')) as { entries: LifecycleEntry[] }).entries;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw badInput('ERR_RECALL_STORE', `${join(store, STATE)}: damaged (${(e as Error).message})`, {
      file: join(store, STATE),
      fix: 'remove it: the next scan rebuilds the open regressions',
    });
  }
}

/**
 * Read, change and write the lifecycle state under the store's flock, so two scans (or a scan
 * and an --accept) never overwrite each other's entries.
 */
async function updateState<T>(store: string, change: (entries: LifecycleEntry[]) => T): Promise<{ entries: LifecycleEntry[]; out: T }> {
  const lock = await lockWait(join(store, '.regressions.lock'), `regressions state of ${store}`);
  try {
    const entries = await loadState(store);
    const out = change(entries);
    await writeFileAtomic(join(store, STATE), `${JSON.stringify({ version: 1, entries }, null, 1)}\n`);
    return { entries, out };
  } finally {
    lock.release();
  }
}

/**
 * A scan's entries merged into the state on disk: per id the one changed last wins (an --accept
 * or another scan's verdict made meanwhile is kept); ids only one side has are kept.
 */
export function mergeState(disk: LifecycleEntry[], mine: LifecycleEntry[]): void {
  const at = new Map(disk.map((e, i) => [e.id, i]));
  for (const e of mine) {
    const i = at.get(e.id);
    if (i === undefined) {
      at.set(e.id, disk.length);
      disk.push(e);
    } else if (e.updated >= disk[i]!.updated) disk[i] = e;
  }
}

export async function acceptRegression(store: string, id: string, reason: string): Promise<LifecycleEntry> {
  const { out } = await updateState(store, (entries) => {
    const e = entries.find((x) => x.id === id);
    if (!e)
      throw usage('ERR_RECALL_NO_SUCH_REGRESSION', `no regression ${id} in ${store}`, {
        fix: 'list them with `recall profile regressions --store DIR --app A --json`',
      });
    e.status = 'accepted';
    e.reason = reason;
    e.updated = new Date().toISOString();
    return e;
  });
  return out;
}

const regressionId = (app: string, fn: string, version: string) =>
  createHash('sha256').update(`${app}\n${fn}\n${version}`).digest('hex').slice(0, 10);

/** Neighbours of a function in the call graph: callers, callees, and the callers' other children. */
function neighbours(pods: PodProfile[], norm: FrameNormalizer, fn: string): Set<string> {
  const callers = new Set<string>();
  const callees = new Set<string>();
  const children = new Map<string, Set<string>>();
  for (const p of pods)
    for (const raw of p.stacks.keys()) {
      const f = norm.stack(raw);
      for (let i = 0; i < f.length; i++) {
        if (i > 0) {
          let s = children.get(f[i - 1]!);
          if (!s) children.set(f[i - 1]!, (s = new Set()));
          s.add(f[i]!);
        }
        if (f[i] !== fn) continue;
        if (i > 0) callers.add(f[i - 1]!);
        if (i + 1 < f.length) callees.add(f[i + 1]!);
      }
    }
  const out = new Set([...callers, ...callees]);
  for (const c of callers) for (const s of children.get(c) ?? []) out.add(s);
  out.delete(fn);
  return out;
}

function git(repo: string, args: string[]): string {
  try {
    return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw usage(
      'ERR_RECALL_GIT',
      `git ${args.slice(0, 2).join(' ')} in ${repo} failed: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0]}`,
      {
        fix: "pass --repo with a clone that has both versions' commits",
      },
    );
  }
}

/** The bare identifier to look for in code: last `::`/`.` component, no parameters. */
const identifierOf = (fn: string) => fn.replace(/\(.*$/, '').split(/::|\./).pop()!.trim();

/**
 * Repository paths that are the files a profile names: equal, or one a path suffix of the other
 * (profiles carry build-machine paths, `/home/ci/svc/src/codec.c`, or perf's base names, `codec.c`).
 */
export function repoPathsOf(profileFiles: Iterable<string>, repoFiles: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of profileFiles) {
    const file = f.replaceAll('\\', '/');
    for (const p of repoFiles) if (file === p || file.endsWith(`/${p}`) || p.endsWith(`/${file}`)) out.add(p);
  }
  return [...out].sort();
}

/**
 * Commits between two versions ranked for a function: touching a file that defines it first,
 * then mentioning it in the patch. The defining files are the profile's (`profileFiles`: pprof
 * Function.filename, perf srcline) when they name files of the repository, else the files holding
 * the name (git grep).
 */
export function candidateCommits(
  repo: string,
  base: string,
  head: string,
  fn: string,
  profileFiles: Iterable<string> = [],
  repoFiles?: () => string[],
): { definedIn: string[]; definedBy: 'profile' | 'name-search'; candidates: Candidate[] } {
  const ident = identifierOf(fn);
  const fromProfile = [...profileFiles];
  let definedIn: string[] = fromProfile.length
    ? repoPathsOf(fromProfile, repoFiles?.() ?? git(repo, ['ls-tree', '-r', '--name-only', head]).split('\n').filter(Boolean))
    : [];
  const definedBy = definedIn.length ? 'profile' : 'name-search';
  if (!definedIn.length && ident) {
    try {
      definedIn = execFileSync('git', ['-C', repo, 'grep', '-l', '-w', '-F', '-e', ident, head], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(head.length + 1));
    } catch {
      definedIn = []; // git grep exits 1 when nothing matches
    }
  }
  const log = git(repo, ['log', '--no-merges', '-p', '-U0', '--format=%x00%H%x09%an%x09%s', `${base}..${head}`]);
  const defs = new Set(definedIn);
  const candidates: Candidate[] = [];
  for (const block of log.split('\0').slice(1)) {
    const nl = block.indexOf('\n');
    const [commit, author, subject] = (nl < 0 ? block : block.slice(0, nl)).split('\t') as [string, string, string];
    const patch = nl < 0 ? '' : block.slice(nl + 1);
    const files = [...patch.matchAll(/^diff --git a\/(.+?) b\//gm)].map((m) => m[1]!);
    const touchesDefinition = files.some((f) => defs.has(f));
    const mentionsFunction = !!ident && new RegExp(`^[+-@].*\\b${ident.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm').test(patch);
    candidates.push({
      commit,
      subject,
      author,
      files,
      touchesDefinition,
      mentionsFunction,
      score: (touchesDefinition ? 2 : 0) + (mentionsFunction ? 1 : 0),
    });
  }
  // Stable: equal scores keep git's order (newest first).
  candidates.sort((a, b) => b.score - a.score);
  return { definedIn, definedBy, candidates };
}

export async function scanRegressions(opt: RegressionsOptions, signal?: AbortSignal): Promise<RegressionsResult> {
  const t: DiffThresholds = {
    ...DEFAULT_THRESHOLDS,
    metric: 'self',
    ...Object.fromEntries(Object.entries(opt.thresholds).filter(([, v]) => v !== undefined)),
  };
  const reader = await StoreReader.open(opt.store);
  try {
    const all = reader.versions(opt.app);
    if (all.length < 2)
      throw usage('ERR_RECALL_STORE_VERSIONS', `app ${opt.app}: ${all.length} version(s) in ${opt.store}, a scan needs 2`, {
        fix: 'ingest more versions (recall profile ingest --label version=...)',
      });
    let start = 0;
    if (opt.since) {
      const i = all.findIndex((v) => v.version === opt.since);
      if (i >= 0) start = i;
      else {
        const d = new Date(opt.since);
        if (Number.isNaN(d.getTime()))
          throw usage('ERR_RECALL_FLAG', `--since ${opt.since} is neither a version of ${opt.app} nor a date`, {
            fix: 'pass a version label or an ISO date',
          });
        start = all.findIndex((v) => v.firstSeen >= d);
        if (start < 0) start = all.length;
      }
    }
    // One version before --since is the baseline of the first comparison.
    const versions = all.slice(Math.max(0, start - 1));
    // One pair of versions in memory at a time: each diff keeps only its rows, and the call-graph
    // neighbours of each rising function are taken while both sides' stacks are loaded.
    const norm = new FrameNormalizer(opt.normalize);
    const podCounts: number[] = [];
    const rows: Array<Map<string, FunctionDelta>> = [];
    const summaries: DiffSummary[] = [];
    const near = new Map<string, Set<string>>();
    let prev: PodProfile[] | null = null;
    for (let i = 0; i < versions.length; i++) {
      signal?.throwIfAborted();
      const cur = await reader.pods(versions[i]!.profiles);
      podCounts.push(cur.length);
      if (prev) {
        const d = diffProfiles(prev, cur, { thresholds: t, normalize: opt.normalize }).summary;
        summaries.push(d);
        rows.push(new Map(d.functions.map((f) => [f.name, f])));
        const both = [...prev, ...cur];
        for (const f of d.functions)
          if (f.gated && f.deltaGatePp > 0 && f.deltaPp.self > 0) near.set(`${i}\0${f.name}`, neighbours(both, norm, f.name));
      }
      prev = cur;
    }
    prev = null;
    const rowOf = (i: number, fn: string): FunctionDelta | undefined => rows[Math.max(1, i) - 1]!.get(fn);
    const share = (i: number, fn: string): number | null => {
      const r = rowOf(i, fn);
      if (!r) return null;
      const side = i === 0 ? r.base : r.head;
      return t.metric === 'self' ? side.selfPct : side.totalPct;
    };
    // Source files per function (normalised name), from the stacks dictionary.
    const filesByFunction = new Map<string, Set<string>>();
    if (opt.repo)
      for (const [frame, files] of await reader.frameFiles()) {
        const name = norm.frame(frame);
        if (name === null) continue;
        let set = filesByFunction.get(name);
        if (!set) filesByFunction.set(name, (set = new Set()));
        for (const f of files) set.add(f);
      }
    const sourceFiles = (fn: string) => filesByFunction.get(fn) ?? [];
    const treeAt = new Map<string, string[]>();
    const repoFilesAt = (commit: string) => {
      let files = treeAt.get(commit);
      if (!files) treeAt.set(commit, (files = git(opt.repo!, ['ls-tree', '-r', '--name-only', commit]).split('\n').filter(Boolean)));
      return files;
    };
    const commitOf = (i: number) => versions[i]!.profiles.find((p) => p.labels.commit)?.labels.commit ?? null;
    const state = await loadState(opt.store);
    const known = new Map(state.map((e) => [e.id, e]));
    const regressions: Regression[] = [];
    const suppressed: Suppressed[] = [];
    const now = new Date().toISOString();
    for (let i = 1; i < versions.length; i++) {
      const d = summaries[i - 1]!;
      const rowsNow = rows[i - 1]!;
      for (const f of d.functions) {
        if (!f.gated || f.deltaGatePp <= 0) continue;
        const before = share(i - 1, f.name) ?? 0;
        const s = { function: f.name, version: versions[i]!.version, previousVersion: versions[i - 1]!.version, deltaPp: f.deltaGatePp };
        // Went away: back near the old level within --confirm N later versions.
        let wentAway: number | null = null;
        for (let j = i + 1; j <= Math.min(i + opt.confirm, versions.length - 1); j++) {
          const sj = share(j, f.name) ?? 0;
          if (sj - before < t.thresholdPp / 2) {
            wentAway = j;
            break;
          }
        }
        if (wentAway !== null) {
          suppressed.push({
            ...s,
            reason: 'went-away',
            detail: `back to ${(share(wentAway, f.name) ?? 0).toFixed(2)}% (was ${before.toFixed(2)}%) at ${versions[wentAway]!.version}`,
          });
          continue;
        }
        // Cost shift: neighbours' self share fell by at least half the rise, beyond the renormalisation fall.
        const rise = f.deltaPp.self;
        if (rise > 0) {
          const baseF = f.base.selfPct;
          let excess = 0;
          const movers: string[] = [];
          for (const n of near.get(`${i}\0${f.name}`) ?? []) {
            const r = rowsNow.get(n);
            if (!r || r.deltaPp.self >= 0) continue;
            const expected = (r.base.selfPct * rise) / Math.max(1e-9, 100 - baseF);
            const e = -r.deltaPp.self - expected;
            if (e > 0) {
              excess += e;
              movers.push(`${n} ${r.deltaPp.self.toFixed(2)} pp`);
            }
          }
          if (excess >= rise / 2) {
            suppressed.push({ ...s, reason: 'cost-shift', detail: `+${rise.toFixed(2)} pp self matched by ${movers.join(', ')}` });
            continue;
          }
        }
        const id = regressionId(opt.app, f.name, versions[i]!.version);
        const base = commitOf(i - 1);
        const head = commitOf(i);
        const { definedIn, definedBy, candidates } =
          opt.repo && base && head
            ? candidateCommits(opt.repo, base, head, f.name, sourceFiles(f.name), () => repoFilesAt(head))
            : { definedIn: [], definedBy: null, candidates: [] };
        const prev = known.get(id);
        regressions.push({
          id,
          ...s,
          firstSeen: versions[i]!.firstSeen.toISOString(),
          baseSharePct: before,
          headSharePct: share(i, f.name) ?? 0,
          z: f.z,
          podsAgree: f.podsAgree,
          confirmed: versions.length - 1 - i >= opt.confirm,
          series: versions.map((v, j) => ({ version: v.version, sharePct: share(j, f.name) })),
          definedIn,
          definedBy,
          candidates,
          status: prev?.status ?? 'open',
          isNew: !prev,
          diffPage: null,
          diffCommand: `recall profile diff --store ${opt.store} --base 'app=${opt.app},version=${s.previousVersion}' --head 'app=${opt.app},version=${s.version}' -o diff.html`,
        });
      }
    }
    // Lifecycle: record new ones; an open one whose share is back near its old level is fixed.
    const last = versions.length - 1;
    for (const r of regressions) {
      let e = known.get(r.id);
      if (!e) {
        e = {
          id: r.id,
          app: opt.app,
          function: r.function,
          firstVersion: r.version,
          status: 'open',
          lastSeen: r.version,
          candidates: r.candidates.slice(0, 5).map((c) => c.commit),
          updated: now,
        };
        state.push(e);
        known.set(r.id, e);
      }
      const latest = share(last, r.function) ?? 0;
      if (e.status === 'open' && latest - r.baseSharePct < t.thresholdPp / 2 && last > versions.findIndex((v) => v.version === r.version)) {
        e.status = 'fixed';
        e.updated = now;
      } else if (e.status !== 'fixed') e.lastSeen = versions[last]!.version;
      r.status = e.status;
    }
    const { entries: merged } = await updateState(opt.store, (disk) => mergeState(disk, state));
    const statusOf = new Map(merged.map((e) => [e.id, e.status]));
    for (const r of regressions) r.status = statusOf.get(r.id) ?? r.status;
    return {
      store: opt.store,
      app: opt.app,
      versions: versions.map((v, i) => ({
        version: v.version,
        firstSeen: v.firstSeen.toISOString(),
        pods: podCounts[i]!,
        commit: commitOf(i),
      })),
      metric: t.metric,
      thresholds: t,
      confirm: opt.confirm,
      regressions,
      suppressed,
      lifecycle: merged.filter((e) => e.app === opt.app),
      newRegressions: regressions.filter((r) => r.isNew && r.status === 'open').length,
    };
  } finally {
    reader.dispose();
  }
}
