/**
 * Frame-name normalisation for diffs: versions differ in addresses, JIT
 * tiers, lambda class names, temp paths, map-file PIDs and Rust hashes, and
 * without this every such frame is "added" on one side and "removed" on the
 * other. Each step can be switched off. Applied once per distinct frame.
 */
import { usage } from '../errors.js';
import { demangleRustLegacy, stripParams } from './perf.js';

export interface NormalizeOptions {
  /** Strip `_[k] _[j] _[i] _[0] _[1] _[w]` annotation suffixes (async-profiler, stackcollapse). */
  annotations?: boolean;
  /** `0x7f12ab` -> `0x...` (difffolded -s). */
  hex?: boolean;
  /** Java hidden classes `Foo$$Lambda+0x.../123` and `$$Lambda$12/0x...` -> `Foo$$Lambda`. */
  lambdas?: boolean;
  /** `/tmp/perf-1234.map` -> `/tmp/perf-PID.map`, per-run temp folders -> `/tmp/*`. */
  paths?: boolean;
  /** Rust legacy `::h0123456789abcdef` hashes and `$LT$` escapes. */
  rust?: boolean;
  /** Top-level parameter lists and a trailing ` const`. */
  params?: boolean;
  /** Root frame: keep it (comm / process), or drop it (across apps, or pods with PIDs in the root). */
  root?: 'keep' | 'drop';
  /** `REGEX=>REPLACEMENT` rewrite rules, applied in order. */
  foldRegex?: string[];
  /** Frames whose (normalised) name matches are removed from the stack. */
  dropFrames?: string;
}

export const DEFAULT_NORMALIZE: Required<Omit<NormalizeOptions, 'foldRegex' | 'dropFrames'>> = {
  annotations: true,
  hex: true,
  lambdas: true,
  paths: true,
  rust: true,
  params: true,
  root: 'keep',
};

const ANNOTATION = /_\[[kji01w]\]$/;

export class FrameNormalizer {
  private readonly cache = new Map<string, string | null>();
  private readonly opt: Required<Omit<NormalizeOptions, 'foldRegex' | 'dropFrames'>>;
  private readonly rules: Array<[RegExp, string]>;
  private readonly drop?: RegExp;

  constructor(options: NormalizeOptions = {}) {
    this.opt = { ...DEFAULT_NORMALIZE, ...stripUndefined(options) } as typeof this.opt;
    this.rules = (options.foldRegex ?? []).map((r) => {
      const at = r.indexOf('=>');
      if (at < 0) throw usage('ERR_RECALL_FOLD_REGEX', `--fold-regex "${r}" has no "=>"`, { fix: 'write it as REGEX=>REPLACEMENT' });
      return [compile(r.slice(0, at), '--fold-regex', 'g'), r.slice(at + 2)];
    });
    if (options.dropFrames) this.drop = compile(options.dropFrames, '--drop-frames');
  }

  /** One frame -> its normalised name, or null when the frame is dropped. */
  frame(name: string): string | null {
    let out = this.cache.get(name);
    if (out !== undefined) return out;
    let s = name;
    const o = this.opt;
    if (o.annotations) s = s.replace(ANNOTATION, '');
    if (o.rust) s = demangleRustLegacy(s);
    if (o.lambdas) s = s.replace(/\$\$Lambda(\$\d+)?([+/][0-9a-fA-Fx/.]*)?/g, '$$$$Lambda');
    if (o.paths) s = s.replace(/\/tmp\/perf-\d+\.map/g, '/tmp/perf-PID.map').replace(/\/tmp\/tmp\.[A-Za-z0-9]+\//g, '/tmp/*/');
    if (o.params) s = stripParams(s, 'bracket').replace(/ const$/, '');
    if (o.hex) s = s.replace(/0x[0-9a-fA-F]+/g, '0x...');
    for (const [re, to] of this.rules) s = s.replace(re, to);
    out = this.drop?.test(s) ? null : s;
    if (this.cache.size > 1_000_000) this.cache.clear();
    this.cache.set(name, out);
    return out;
  }

  /** A folded stack -> its normalised frames, root first ([] when everything was dropped). */
  stack(folded: string): string[] {
    const parts = folded.split(';');
    const out: string[] = [];
    for (let i = this.opt.root === 'drop' ? 1 : 0; i < parts.length; i++) {
      const f = this.frame(parts[i]!);
      if (f !== null) out.push(f);
    }
    return out;
  }
}

function compile(source: string, flag: string, flags = ''): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw usage('ERR_RECALL_REGEX', `${flag} "${source}" is not a valid regular expression (${(e as Error).message})`, {
      fix: 'escape ( [ + * and friends with \\',
    });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
