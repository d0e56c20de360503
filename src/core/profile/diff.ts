/**
 * The diff of two merged sides: a flat per-function view (self and
 * inclusive, recursion counted once per stack) that CI gates on, and a
 * per-call-path tree for the flame graph. Share mode (percentage points of
 * each side's total) is the default because load is never equal between a
 * base and a head capture; absolute (per pod) and per-unit modes are there
 * for when it is. A function regresses only when its delta is over the
 * threshold and significant: two-proportion z on sample counts and, with
 * two or more pods per side, pods that agree (every head pod beyond every base
 * pod, or a one-sided rank test over five or more pods a side).
 */
import { badInput, usage } from '../errors.js';
import { mannWhitneyP } from '../stats/rank-test.js';
import type { DiffMode, DiffThresholds, FlameNode, FunctionDelta, FunctionSide, PodProfile, SideSummary } from './model.js';
import { FrameNormalizer, type NormalizeOptions } from './normalize.js';
import { byteOrder } from './stacks.js';

export interface DiffOptions {
  mode?: DiffMode;
  /** per-unit mode: load of each side (requests, QPS x seconds). */
  baseUnits?: number;
  headUnits?: number;
  thresholds?: Partial<DiffThresholds>;
  normalize?: NormalizeOptions;
  /** Tree nodes under this inclusive share (%) on both sides are pruned from the graph. */
  prunePct?: number;
  /** Insufficient evidence over the threshold fails the gate too. */
  failOnInsufficient?: boolean;
  labels?: { base?: string; head?: string };
  /** --label metadata per side. */
  meta?: { base?: Record<string, string>; head?: Record<string, string> };
}

export const DEFAULT_THRESHOLDS: DiffThresholds = {
  thresholdPp: 1,
  metric: 'total',
  thresholdRel: null,
  minShare: 0.5,
  minSamples: 20,
  z: 2,
  failOnAdded: false,
  ignore: null,
  allow: null,
};

export interface DiffSummary {
  version: 2;
  mode: DiffMode;
  unit: string;
  verdict: 'pass' | 'regression';
  sides: { base: SideSummary; head: SideSummary };
  thresholds: DiffThresholds;
  functions: FunctionDelta[];
  regressions: BriefDelta[];
  improvements: BriefDelta[];
  added: string[];
  removed: string[];
  warnings: string[];
}

export interface BriefDelta {
  name: string;
  status: FunctionDelta['status'];
  deltaPp: number;
  z: number;
  gated: boolean;
}

export interface DiffResult {
  summary: DiffSummary;
  headTree: FlameNode;
  baseTree: FlameNode;
  pruned: { head: number; base: number };
  /** `stack base head` lines (base scaled to the head total in share mode). */
  folded: string;
}

interface FlatAcc {
  self: number;
  total: number;
  selfSamples: number;
  samples: number;
}

interface TrieNode {
  name: string;
  total: number;
  self: number;
  samples: number;
  children: Map<string, TrieNode>;
}

/** One side after normalisation: merged stacks, per-pod flat views, the call tree. */
class Side {
  readonly stacks = new Map<string, { weight: number; samples: number; frames: string[] }>();
  readonly flat = new Map<string, FlatAcc>();
  readonly podFlat: Array<{ total: number; flat: Map<string, FlatAcc> }> = [];
  readonly root: TrieNode = { name: 'all', total: 0, self: 0, samples: 0, children: new Map() };
  total = 0;
  samples = 0;

  constructor(
    readonly pods: PodProfile[],
    norm: StackNormalizer,
  ) {
    for (const pod of pods) {
      const flat = new Map<string, FlatAcc>();
      let podTotal = 0;
      for (const [raw, c] of pod.stacks) {
        const n = norm.stack(raw);
        if (n === null) continue;
        podTotal += c.weight;
        addFlat(flat, n, c.weight, c.samples);
        const e = this.stacks.get(n.key);
        if (e) {
          e.weight += c.weight;
          e.samples += c.samples;
        } else this.stacks.set(n.key, { weight: c.weight, samples: c.samples, frames: n.frames });
      }
      this.podFlat.push({ total: podTotal, flat });
      this.total += podTotal;
      for (const [fn, a] of flat) {
        const m = this.flat.get(fn);
        if (m) {
          m.self += a.self;
          m.total += a.total;
          m.selfSamples += a.selfSamples;
          m.samples += a.samples;
        } else this.flat.set(fn, { ...a });
      }
    }
    // The tree from the merged stacks: one walk per distinct stack, not one per pod and stack.
    for (const e of this.stacks.values()) this.addPath(e.frames, e.weight, e.samples);
    this.samples = this.root.samples;
  }

  private addPath(frames: string[], weight: number, samples: number) {
    let node = this.root;
    node.total += weight;
    node.samples += samples;
    for (const f of frames) {
      let child = node.children.get(f);
      if (!child) node.children.set(f, (child = { name: f, total: 0, self: 0, samples: 0, children: new Map() }));
      child.total += weight;
      child.samples += samples;
      node = child;
    }
    node.self += weight;
  }
}

/** A normalised stack: frames root first, their folded key, each function once (recursion) and the leaf. */
interface NormalStack {
  frames: string[];
  key: string;
  distinct: string[];
  leaf: string;
}

/** Normalised stacks by raw folded stack: pods of one diff share most of their stacks. */
class StackNormalizer {
  private readonly cache = new Map<string, NormalStack | null>();
  constructor(private readonly norm: FrameNormalizer) {}

  stack(raw: string): NormalStack | null {
    let n = this.cache.get(raw);
    if (n !== undefined) return n;
    const frames = this.norm.stack(raw);
    n = frames.length ? { frames, key: frames.join(';'), distinct: [...new Set(frames)], leaf: frames[frames.length - 1]! } : null;
    if (this.cache.size > 500_000) this.cache.clear();
    this.cache.set(raw, n);
    return n;
  }
}

function addFlat(flat: Map<string, FlatAcc>, n: NormalStack, weight: number, samples: number) {
  // recursion: inclusive counts a function once per stack
  for (const f of n.distinct) {
    let a = flat.get(f);
    if (!a) flat.set(f, (a = { self: 0, total: 0, selfSamples: 0, samples: 0 }));
    a.total += weight;
    a.samples += samples;
  }
  const a = flat.get(n.leaf)!;
  a.self += weight;
  a.selfSamples += samples;
}

/** Two-proportion z on counts x of n (0 when undefined). */
export function zScore(xb: number, nb: number, xh: number, nh: number): number {
  if (nb <= 0 || nh <= 0) return 0;
  const pb = xb / nb;
  const ph = xh / nh;
  const p = (xb + xh) / (nb + nh);
  const v = p * (1 - p) * (1 / nb + 1 / nh);
  return v > 0 ? (ph - pb) / Math.sqrt(v) : 0;
}

const round = (x: number, digits = 6) => {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
};

function sideSummary(label: string, side: Side, meta: Record<string, string>): SideSummary {
  const units = new Set(side.pods.map((p) => p.unit));
  const events = new Set(side.pods.map((p) => p.event).filter(Boolean));
  const durations = side.pods.map((p) => p.durationNs);
  const known = durations.every((d) => d !== undefined && d > 0);
  const unit = [...units][0]!;
  const timeUnit = unit === 'nanoseconds';
  let cores: number | null = null;
  if (known && timeUnit) cores = side.podFlat.reduce((s, p, i) => s + p.total / durations[i]!, 0);
  const labels: Record<string, string> = { ...meta };
  for (const p of side.pods) for (const [k, v] of Object.entries(p.labels)) labels[k] ??= v;
  return {
    label,
    inputs: side.pods.map((p) => p.source),
    pods: side.pods.length,
    samples: round(side.samples, 3),
    total: round(side.total, 3),
    unit,
    event: events.size ? [...events][0] : undefined,
    durationMs: known ? round(durations.reduce<number>((a, d) => a + (d ?? 0), 0) / 1e6 / side.pods.length, 3) : null,
    cores: cores === null ? null : round(cores, 6),
    labels,
  };
}

function checkComparable(base: PodProfile[], head: PodProfile[]) {
  const all = [...base, ...head];
  const first = all[0]!;
  for (const p of all) {
    if (p.unit !== first.unit)
      throw badInput('ERR_RECALL_PROFILE_UNITS', `${p.source}: unit ${p.unit} differs from ${first.source}'s ${first.unit}`, {
        file: p.source,
        fix: 'compare profiles of one kind (pick the pprof type with --sample-type, or give folded files --unit)',
      });
    if (p.event && first.event && p.event !== first.event)
      throw badInput('ERR_RECALL_PROFILE_EVENTS', `${p.source}: event ${p.event} differs from ${first.source}'s ${first.event}`, {
        file: p.source,
        fix: 'pick one event with --event (perf) or --sample-type (pprof)',
      });
  }
}

/** How many frames deep the flame graph is drawn (deeper stacks are summed into the frame at this depth). */
export const FLAME_MAX_DEPTH = 1000;

export function diffProfiles(basePods: PodProfile[], headPods: PodProfile[], options: DiffOptions = {}): DiffResult {
  if (!basePods.length || !headPods.length)
    throw badInput('ERR_RECALL_PROFILE_EMPTY', 'a side has no inputs', { fix: 'pass --base and --head files' });
  checkComparable(basePods, headPods);
  const mode = options.mode ?? 'share';
  const t: DiffThresholds = {
    ...DEFAULT_THRESHOLDS,
    ...Object.fromEntries(Object.entries(options.thresholds ?? {}).filter(([, v]) => v !== undefined)),
  };
  const ignore = t.ignore ? new RegExp(t.ignore) : undefined;
  const allow = t.allow ? new RegExp(t.allow) : undefined;
  const norm = new StackNormalizer(new FrameNormalizer(options.normalize));
  const B = new Side(basePods, norm);
  const H = new Side(headPods, norm);
  if (B.total <= 0 || H.total <= 0)
    throw badInput('ERR_RECALL_PROFILE_EMPTY', `the ${B.total <= 0 ? 'base' : 'head'} side is empty after normalisation`, {
      fix: 'check --drop-frames and the inputs',
    });
  const warnings: string[] = [];
  for (const p of [...basePods, ...headPods]) warnings.push(...p.warnings);

  // Per-side divisors of the mode: side total (share), pods (absolute, per pod), load (per-unit).
  let divB = B.total;
  let divH = H.total;
  if (mode === 'absolute') {
    divB = B.pods.length;
    divH = H.pods.length;
    warnings.push('absolute mode compares CPU per pod: valid only when base and head pods ran the same load');
  } else if (mode === 'per-unit') {
    if (!(options.baseUnits! > 0) || !(options.headUnits! > 0))
      throw usage('ERR_RECALL_PER_UNIT', 'per-unit mode needs the load of both sides', {
        fix: 'pass --base-units N --head-units M (requests)',
      });
    divB = options.baseUnits!;
    divH = options.headUnits!;
  }
  const baseRef = B.total / divB; // the base total in the mode's unit: gate deltas are pp of it
  const gatePp = (h: number, b: number) => ((h / divH - b / divB) / baseRef) * 100;
  const unit = basePods[0]!.unit;
  const timeUnit = unit === 'nanoseconds';
  const durB = meanDuration(basePods);
  const durH = meanDuration(headPods);

  const names = new Set([...B.flat.keys(), ...H.flat.keys()]);
  const functions: FunctionDelta[] = [];
  let insufficient = 0;
  const zero: FlatAcc = { self: 0, total: 0, selfSamples: 0, samples: 0 };
  for (const name of names) {
    const b = B.flat.get(name) ?? zero;
    const h = H.flat.get(name) ?? zero;
    const status = b === zero ? 'added' : h === zero ? 'removed' : 'common';
    const side = (a: FlatAcc, s: Side): FunctionSide => ({
      self: round(a.self, 3),
      total: round(a.total, 3),
      selfPct: round((a.self / s.total) * 100),
      totalPct: round((a.total / s.total) * 100),
      selfSamples: round(a.selfSamples, 3),
      samples: round(a.samples, 3),
    });
    const metricSelf = t.metric === 'self';
    const [bm, hm] = metricSelf ? [b.self, h.self] : [b.total, h.total];
    const zSelf = zScore(b.selfSamples, B.samples, h.selfSamples, H.samples);
    const zTotal = zScore(b.samples, B.samples, h.samples, H.samples);
    const z = metricSelf ? zSelf : zTotal;
    const dGate = gatePp(hm, bm);
    const shareB = (bm / B.total) * 100;
    const shareH = (hm / H.total) * 100;
    const deltaRel = bm > 0 ? shareH / shareB - 1 : null;
    const podsAgree = podsAgreement(B, H, name, metricSelf, dGate);
    const samples = metricSelf ? b.selfSamples + h.selfSamples : b.samples + h.samples;
    const over =
      dGate >= t.thresholdPp || (t.thresholdRel !== null && deltaRel !== null && deltaRel >= t.thresholdRel && shareH >= t.minShare);
    const excluded = (ignore?.test(name) ?? false) || (allow?.test(name) ?? false);
    const evidence = samples >= t.minSamples && Math.abs(z) >= t.z && podsAgree !== false;
    let gated = dGate > 0 && over && evidence && !excluded;
    if (status === 'added' && t.failOnAdded && samples >= t.minSamples && !excluded) gated = true;
    if (dGate > 0 && over && !evidence && !excluded) {
      insufficient++;
      warnings.push(
        `${name}: ${fmtPp(dGate)} over the threshold but not confirmed (z ${z.toFixed(2)}, ${samples} samples, pods agree: ${podsAgree ?? 'n/a'})`,
      );
      if (options.failOnInsufficient) gated = true;
    }
    functions.push({
      name,
      status,
      base: side(b, B),
      head: side(h, H),
      deltaPp: { self: round((h.self / H.total - b.self / B.total) * 100), total: round((h.total / H.total - b.total / B.total) * 100) },
      deltaGatePp: round(dGate),
      deltaRel: deltaRel === null ? null : round(deltaRel),
      deltaAbs: round(mode === 'share' ? (hm / H.total - bm / B.total) * H.total : hm / divH - bm / divB, 3),
      deltaCores: timeUnit && durB && durH ? round(hm / H.pods.length / durH - bm / B.pods.length / durB, 6) : null,
      z: round(z, 4),
      zSelf: round(zSelf, 4),
      zTotal: round(zTotal, 4),
      podsAgree: podsAgree,
      gated,
    });
  }
  functions.sort((a, b) => Math.abs(b.deltaGatePp) - Math.abs(a.deltaGatePp) || byteOrder(a.name, b.name));
  const brief = (f: FunctionDelta): BriefDelta => ({ name: f.name, status: f.status, deltaPp: f.deltaGatePp, z: f.z, gated: f.gated });
  const regressions = functions.filter((f) => f.gated || (f.deltaGatePp >= t.thresholdPp && Math.abs(f.z) >= t.z)).map(brief);
  const improvements = functions.filter((f) => f.deltaGatePp <= -t.thresholdPp && Math.abs(f.z) >= t.z).map(brief);
  if (insufficient && !options.failOnInsufficient)
    warnings.push(`${insufficient} function(s) over the threshold lacked evidence (--fail-on-insufficient gates them)`);

  const summary: DiffSummary = {
    version: 2,
    mode,
    unit,
    verdict: functions.some((f) => f.gated) ? 'regression' : 'pass',
    sides: {
      base: sideSummary(options.labels?.base ?? 'base', B, options.meta?.base ?? {}),
      head: sideSummary(options.labels?.head ?? 'head', H, options.meta?.head ?? {}),
    },
    thresholds: t,
    functions,
    regressions,
    improvements,
    added: functions
      .filter((f) => f.status === 'added')
      .map((f) => f.name)
      .sort(byteOrder),
    removed: functions
      .filter((f) => f.status === 'removed')
      .map((f) => f.name)
      .sort(byteOrder),
    warnings,
  };

  const prune = options.prunePct ?? 0.01;
  const pruned = { head: 0, base: 0 };
  let truncated = 0;
  const flameNode = (shape: TrieNode, other: TrieNode | undefined, shapeIsHead: boolean): FlameNode => {
    const [h, b] = shapeIsHead ? [shape, other] : [other, shape];
    const hw = h?.total ?? 0;
    const bw = b?.total ?? 0;
    const hn = h?.samples ?? 0;
    const bn = b?.samples ?? 0;
    const out: FlameNode = {
      name: shape.name,
      value: shape.total,
      children: [],
      d: round(gatePp(hw, bw), 4),
      bt: round((bw / B.total) * 100, 4),
      ht: round((hw / H.total) * 100, 4),
      bs: round(((b?.self ?? 0) / B.total) * 100, 4),
      hs: round(((h?.self ?? 0) / H.total) * 100, 4),
      bn: round(bn, 3),
      hn: round(hn, 3),
      z: bn + hn >= t.minSamples ? round(zScore(bn, B.samples, hn, H.samples), 3) : 0,
      st: other ? 'common' : shapeIsHead ? 'added' : 'removed',
    };
    return out;
  };
  // Built with an explicit stack (stacks can be 100,000 frames deep); the drawn tree stops at
  // FLAME_MAX_DEPTH frames (the page, JSON and the browser nest one level per frame), deeper
  // frames stay in the function table and the folded output.
  const tree = (rootShape: TrieNode, rootOther: TrieNode, shapeIsHead: boolean): FlameNode => {
    const top = flameNode(rootShape, rootOther, shapeIsHead);
    const todo: Array<{ shape: TrieNode; other: TrieNode | undefined; out: FlameNode; depth: number }> = [
      { shape: rootShape, other: rootOther, out: top, depth: 0 },
    ];
    while (todo.length) {
      const { shape, other, out, depth } = todo.pop()!;
      if (shape.children.size && depth >= FLAME_MAX_DEPTH) {
        truncated++;
        continue;
      }
      const kids = [...shape.children.values()].sort((x, y) => byteOrder(x.name, y.name));
      for (const c of kids) {
        const oc = other?.children.get(c.name);
        const shareHere = (c.total / (shapeIsHead ? H.total : B.total)) * 100;
        const shareThere = oc ? (oc.total / (shapeIsHead ? B.total : H.total)) * 100 : 0;
        if (shareHere < prune && shareThere < prune) {
          pruned[shapeIsHead ? 'head' : 'base']++;
          continue;
        }
        const child = flameNode(c, oc, shapeIsHead);
        out.children.push(child);
        todo.push({ shape: c, other: oc, out: child, depth: depth + 1 });
      }
    }
    return top;
  };
  const headTree = tree(H.root, B.root, true);
  const baseTree = tree(B.root, H.root, false);
  if (truncated)
    warnings.push(
      `the flame graph draws ${FLAME_MAX_DEPTH} frames deep; ${truncated} deeper subtree(s) are in the table and folded output only`,
    );

  // Differential folded: union of stacks, base scaled to the head total in share mode.
  const scale = mode === 'share' ? H.total / B.total : 1;
  const keys = [...new Set([...B.stacks.keys(), ...H.stacks.keys()])].sort(byteOrder);
  let folded = '';
  for (const k of keys) folded += `${k} ${fmtCount((B.stacks.get(k)?.weight ?? 0) * scale)} ${fmtCount(H.stacks.get(k)?.weight ?? 0)}\n`;

  return { summary, headTree, baseTree, pruned, folded };
}

function meanDuration(pods: PodProfile[]): number | undefined {
  if (!pods.every((p) => p.durationNs! > 0)) return undefined;
  return pods.reduce((s, p) => s + p.durationNs!, 0) / pods.length;
}

/** Pods a side from which a rank test can agree without every pod being beyond every other. */
const RANK_TEST_PODS = 5;
/** One-sided p-value at or below which the rank test says the pods agree. */
const RANK_TEST_P = 0.01;

/**
 * Do the pods agree on the delta's direction (null with < 2 pods a side)? Yes when every head
 * pod's share is beyond every base pod's; with many noisy pods one outlier must not veto a real
 * shift, so from RANK_TEST_PODS a side a one-sided Mann-Whitney U test over the pods' shares
 * agrees too.
 */
function podsAgreement(B: Side, H: Side, name: string, self: boolean, delta: number): boolean | null {
  if (B.podFlat.length < 2 || H.podFlat.length < 2) return null;
  const shares = (s: Side) =>
    s.podFlat.map((p) => {
      const a = p.flat.get(name);
      return a ? (self ? a.self : a.total) / p.total : 0;
    });
  const b = shares(B);
  const h = shares(H);
  const up = delta >= 0;
  if (up ? Math.min(...h) > Math.max(...b) : Math.max(...h) < Math.min(...b)) return true;
  if (b.length < RANK_TEST_PODS || h.length < RANK_TEST_PODS) return false;
  return mannWhitneyP(b, h, up) <= RANK_TEST_P;
}

const fmtPp = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} pp`;
const fmtCount = (x: number) => (Number.isInteger(x) ? String(x) : String(round(x, 3)));
