/**
 * Flags shared by `recall profile collapse | merge | diff`: how inputs are
 * read (format, perf event and frame rules, pprof sample type, folded units).
 */
import { Flags } from '@oclif/core';
import type { ReadOptions } from '../../core/profile/read.js';
import { usage } from '../../core/errors.js';

const INPUT = 'INPUT';

export const profileReadFlags = {
  format: Flags.string({
    description: 'input format (default: detected from the content)',
    options: ['perf', 'folded', 'pprof'],
    helpGroup: INPUT,
  }),
  event: Flags.string({ description: 'perf: keep only this event (default: the first one seen)', helpGroup: INPUT }),
  pid: Flags.boolean({ description: 'perf: root frame comm-PID', helpGroup: INPUT }),
  tid: Flags.boolean({ description: 'perf: root frame comm-PID/TID', helpGroup: INPUT }),
  kernel: Flags.boolean({ description: 'perf: annotate kernel frames _[k]', helpGroup: INPUT }),
  jit: Flags.boolean({ description: 'perf: annotate JIT frames _[j]', helpGroup: INPUT }),
  all: Flags.boolean({ description: 'perf: --kernel and --jit', helpGroup: INPUT }),
  addrs: Flags.boolean({ description: 'perf: keep addresses of unknown frames', helpGroup: INPUT }),
  compat: Flags.string({
    description:
      'perf frame rules of: inferno (a top-level "(" starts the parameter list, quotes kept, Rust names fixed) or flamegraph (stackcollapse-perf.pl: cut at the first "(", quotes removed, an unterminated last event dropped)',
    options: ['inferno', 'flamegraph'],
    default: 'inferno',
    helpGroup: INPUT,
  }),
  'sample-type': Flags.string({
    description: 'pprof: sample type to read (default: cpu, else the profile default, else the last)',
    helpGroup: INPUT,
  }),
  unit: Flags.string({ description: 'folded: unit of the counts (samples, nanoseconds, ...)', helpGroup: INPUT }),
  threads: Flags.integer({ description: 'files parsed in parallel on worker threads (default: the cores)', min: 1, helpGroup: INPUT }),
  'max-input-bytes': Flags.string({
    description: 'refuse an input larger than this after gunzip (a gzip bomb, a file that is not a profile)',
    default: '2GiB',
    helpGroup: INPUT,
  }),
  period: Flags.string({
    description: 'folded: weight of one sample (e.g. 10000000 ns), to recover sample counts for the statistics',
    helpGroup: INPUT,
  }),
};

export interface ProfileReadFlagValues {
  format?: string;
  event?: string;
  pid: boolean;
  tid: boolean;
  kernel: boolean;
  jit: boolean;
  all: boolean;
  addrs: boolean;
  compat: string;
  'sample-type'?: string;
  unit?: string;
  period?: string;
  'max-input-bytes'?: string;
}

export function readOptions(f: ProfileReadFlagValues): ReadOptions {
  let period: number | undefined;
  if (f.period !== undefined) {
    period = Number(f.period);
    if (!(period > 0))
      throw usage('ERR_RECALL_FLAG', `--period ${f.period} is not a positive number`, {
        fix: 'pass the sampling period, e.g. --period 10000000',
      });
  }
  return {
    format: f.format as ReadOptions['format'],
    event: f.event,
    pid: f.pid,
    tid: f.tid,
    kernel: f.kernel || f.all,
    jit: f.jit || f.all,
    addrs: f.addrs,
    tidy: f.compat === 'flamegraph' ? 'first-paren' : 'bracket',
    keepUnterminated: f.compat !== 'flamegraph',
    sampleType: f['sample-type'],
    unit: f.unit === 'ns' ? 'nanoseconds' : f.unit,
    period,
    maxInputBytes: f['max-input-bytes'] === undefined ? undefined : parseBytes('max-input-bytes', f['max-input-bytes']),
  };
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kb: 1e3,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 1e6,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 1e9,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 1e12,
  tib: 2 ** 40,
};

/** A byte size: 1000000, 64MiB, 2GB, 1.5GiB. */
export function parseBytes(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!(n >= 1)) throw usage('ERR_RECALL_FLAG', `--${flag} ${value} is not a size`, { fix: `write it like --${flag} 512MiB or 4GiB` });
  return n;
}

/** `--label k=v,k2=v2` (repeatable) -> a record. */
export function parseLabels(values: string[] | undefined, flag = '--label'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? [])
    for (const pair of v.split(',')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw usage('ERR_RECALL_FLAG', `${flag} "${pair}" is not key=value`, { fix: `write ${flag} app=search,version=1.3` });
      out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
  return out;
}
