// The shapes shared by the profile readers, the diff and its renderers.

/** One input file (one pod) after parsing: collapsed stacks and what is known about them. */
export interface PodProfile {
  /** Path of the input file. */
  source: string;
  format: ProfileFormat;
  /** Unit of `weight`: 'nanoseconds' (perf cpu-clock periods, pprof cpu), 'samples', or what the input says. */
  unit: string;
  /** perf event or pprof sample type the weights come from. */
  event?: string;
  /** Wall time the capture covered, when known (pprof duration_nanos, perf first..last timestamp). */
  durationNs?: number;
  /** Folded stack ("root;...;leaf") -> weight and sample count. */
  stacks: Map<string, StackCount>;
  totalWeight: number;
  totalSamples: number;
  /** Lines or records that did not parse (counted, never fatal unless nothing parsed). */
  badLines: number;
  /** First bad line, for the warning. */
  firstBad?: { line: number; text: string };
  /** Notes for the user (events skipped, units assumed...). */
  warnings: string[];
  /** User or profile metadata (pprof labels, --label). */
  labels: Record<string, string>;
  /** Frame name -> the source file defining it, where the format says (pprof Function.filename, perf srcline). */
  frameFiles?: Map<string, string>;
  /** sha256 (hex) of the file as stored, when the read was asked for it. */
  sourceSha256?: string;
}

export interface StackCount {
  weight: number;
  samples: number;
}

export type ProfileFormat = 'perf' | 'folded' | 'pprof';

/** A node of a flame graph tree as embedded in the HTML (short keys keep the file small). */
export interface FlameNode {
  /** Frame name (normalised). */
  name: string;
  /** Inclusive weight on the side this tree is shaped by (head for the head view, base for the base view). */
  value: number;
  children: FlameNode[];
  /** Inclusive delta in percentage points of each side's total (head share - base share). */
  d: number;
  /** Inclusive share (%) of base and head. */
  bt: number;
  ht: number;
  /** Self share (%) of base and head. */
  bs: number;
  hs: number;
  /** Inclusive sample counts, base and head. */
  bn: number;
  hn: number;
  /** Two-proportion z of the inclusive share change (0 when below the sample floor). */
  z: number;
  /** 'added' = path absent from the base, 'removed' = absent from the head. */
  st: 'common' | 'added' | 'removed';
}

export type DiffMode = 'share' | 'absolute' | 'per-unit';
export type FunctionStatus = 'common' | 'added' | 'removed';

/** One side's figures for one function. Weights are in the side's unit; pct are % of the side total. */
export interface FunctionSide {
  self: number;
  total: number;
  selfPct: number;
  totalPct: number;
  /** Samples in which the function is the leaf / appears at all (recursion counted once). */
  selfSamples: number;
  samples: number;
}

/** A row of the flat per-function diff (the JSON summary's `functions`). */
export interface FunctionDelta {
  name: string;
  status: FunctionStatus;
  base: FunctionSide;
  head: FunctionSide;
  /** Share deltas in percentage points of each side's total. */
  deltaPp: { self: number; total: number };
  /** Relative change of the gated metric's share (null for added functions). */
  deltaRel: number | null;
  /**
   * The gated quantity in percentage points: the share delta in share mode; in absolute and
   * per-unit modes the change per pod (per unit) as pp of the base's per-pod (per-unit) total.
   */
  deltaGatePp: number;
  /** Change of the gated metric in the mode's unit: CPU cores (absolute with durations), weight per unit (per-unit), else weight. */
  deltaAbs: number;
  /** Change in CPU cores (head - base) when the unit is time and both durations are known. */
  deltaCores: number | null;
  /** Two-proportion z on sample counts, for the gated metric and for both. */
  z: number;
  zSelf: number;
  zTotal: number;
  /**
   * With >= 2 pods per side: every head pod's share beyond every base pod's (in the delta's
   * direction), or with >= 5 pods a side a one-sided Mann-Whitney U test at p <= 0.01. null with fewer pods.
   */
  podsAgree: boolean | null;
  /** Over the threshold, significant and not ignored: makes the command exit 4 (regressions only). */
  gated: boolean;
}

export interface SideSummary {
  label: string;
  inputs: string[];
  pods: number;
  samples: number;
  total: number;
  unit: string;
  event?: string;
  durationMs: number | null;
  /** CPU cores summed over pods (time units with known durations only). */
  cores: number | null;
  labels: Record<string, string>;
}

export interface DiffThresholds {
  thresholdPp: number;
  metric: 'self' | 'total';
  thresholdRel: number | null;
  minShare: number;
  minSamples: number;
  z: number;
  failOnAdded: boolean;
  ignore: string | null;
  allow: string | null;
}

/** Everything the HTML page shows. */
export interface HtmlReport {
  title: string;
  /** Generation time, only when the user asked for it (output is deterministic otherwise). */
  generated: string | null;
  tool: string;
  mode: DiffMode;
  unit: string;
  thresholds: DiffThresholds;
  sides: { base: SideSummary; head: SideSummary };
  /** Head-shaped tree (widths = head inclusive) and base-shaped tree (widths = base inclusive). */
  headTree: FlameNode;
  baseTree: FlameNode;
  /** Nodes left out of each tree because they were under the size floor of both sides. */
  pruned: { head: number; base: number };
  /** The flat per-function rows for the table (already sorted by gated metric delta). */
  functions: FunctionDelta[];
  /** The gate's outcome and the functions that failed it (all of them, beyond the table's cap). */
  verdict: 'pass' | 'regression';
  gated: string[];
  /** Reader and diff warnings (skipped events, bad lines, unconfirmed deltas). */
  warnings: string[];
}
