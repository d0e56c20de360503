/**
 * The jobs behind `recall profile collapse | merge | diff`: read every input
 * (progress by bytes), merge, diff, and write each output atomically.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { writeFileAtomic } from '../io/atomic.js';

/** Outputs go where the user points, parent folders created. */
async function writeOutput(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data);
}
import type { ProgressSink as Progress } from '../io/progress.js';
import { fromWire, isWireError, usage, type WireError } from '../errors.js';
import { diffProfiles, type DiffOptions, type DiffSummary } from './diff.js';
import { renderDiffHtml } from './html.js';
import type { HtmlReport, PodProfile } from './model.js';
import { readProfile, type ReadOptions } from './read.js';
import { StackCounter } from './stacks.js';
import { diffMarkdown } from './summary.js';

export interface ReadJob {
  read: ReadOptions;
  /** Worker threads for parsing (default: the cores; 1 = on the main thread). */
  threads?: number;
  progress?: Progress;
  signal?: AbortSignal;
}

/** Below this much input, worker start-up costs more than it saves. */
const PARALLEL_BYTES = 16 << 20;

/**
 * Read files (each streamed), ticking progress by bytes, and hand each parsed file to `visit` in
 * file order, so a caller that keeps only a digest of each holds one parsed file at a time. With
 * several large files they are parsed on worker threads, one file per thread at a time; a file
 * that finishes before the ones ahead of it waits for them.
 */
export async function forEachPod(
  files: string[],
  job: ReadJob,
  label: string,
  visit: (pod: PodProfile, index: number) => void,
): Promise<void> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f).catch(() => ({ size: 0 }))).size));
  const bytes = sizes.reduce((a, b) => a + b, 0);
  job.progress?.start(label, bytes, 'B');
  try {
    const threads = Math.min(files.length, job.threads ?? availableParallelism());
    if (threads > 1 && bytes >= PARALLEL_BYTES) {
      const pool = new Piscina({
        filename: new URL('./read-worker.js', import.meta.url).href,
        maxThreads: threads,
        minThreads: threads,
        idleTimeout: 100,
      });
      try {
        const { signal, ...read } = { ...job.read, signal: job.signal };
        // At most `threads` tasks in flight: each task adds an abort listener to the signal, and
        // one per file would pass Node's listener limit (a warning) past ten files.
        const early = new Map<number, PodProfile>();
        let next = 0;
        let visited = 0;
        const lane = async () => {
          while (next < files.length) {
            const i = next++;
            const out = (await pool.run({ path: files[i], options: read }, { signal })) as PodProfile | WireError;
            if (isWireError(out)) throw fromWire(out);
            job.progress?.tick(sizes[i]);
            early.set(i, out);
            for (let pod = early.get(visited); pod; pod = early.get(visited)) {
              early.delete(visited);
              visit(pod, visited++);
            }
          }
        };
        await Promise.all(Array.from({ length: threads }, lane));
        return;
      } finally {
        await pool.destroy();
      }
    }
    for (const [i, f] of files.entries()) {
      job.signal?.throwIfAborted();
      visit(await readProfile(f, { ...job.read, signal: job.signal, onBytes: (n) => job.progress?.tick(n) }), i);
    }
  } finally {
    job.progress?.stop();
  }
}

/** Every file parsed (forEachPod), in file order. */
export async function readAll(files: string[], job: ReadJob, label = 'reading'): Promise<PodProfile[]> {
  const pods: PodProfile[] = new Array(files.length);
  await forEachPod(files, job, label, (pod, i) => {
    pods[i] = pod;
  });
  return pods;
}

/** Both sides of a diff, parsed together so two cores share all the files. */
async function readSides(baseFiles: string[], headFiles: string[], job: ReadJob): Promise<[PodProfile[], PodProfile[]]> {
  const pods = await readAll([...baseFiles, ...headFiles], job, 'reading base and head');
  return [pods.slice(0, baseFiles.length), pods.slice(baseFiles.length)];
}

export interface CollapseResult {
  inputs: Array<{
    file: string;
    format: string;
    event?: string;
    unit: string;
    samples: number;
    total: number;
    durationMs: number | null;
    stacks: number;
    badLines: number;
  }>;
  stacks: number;
  samples: number;
  total: number;
  output: string | null;
  warnings: string[];
}

/** Many inputs -> one folded text (inputs summed, as `cat a b | stackcollapse`). */
export async function collapse(
  files: string[],
  out: string | undefined,
  job: ReadJob,
): Promise<{ result: CollapseResult; folded: string }> {
  const pods = await readAll(files, job);
  const merged = new StackCounter();
  for (const p of pods) for (const [k, c] of p.stacks) merged.add(k, c.weight, c.samples);
  const folded = merged.toFolded();
  if (out) await writeOutput(out, folded);
  return {
    folded,
    result: {
      inputs: pods.map((p) => ({
        file: p.source,
        format: p.format,
        event: p.event,
        unit: p.unit,
        samples: p.totalSamples,
        total: p.totalWeight,
        durationMs: p.durationNs ? Math.round(p.durationNs / 1e3) / 1e3 : null,
        stacks: p.stacks.size,
        badLines: p.badLines,
      })),
      stacks: merged.map.size,
      samples: merged.totalSamples,
      total: merged.totalWeight,
      output: out ?? null,
      warnings: pods.flatMap((p) => p.warnings),
    },
  };
}

export interface MergeResult extends CollapseResult {
  labels: Record<string, string>;
  pods: Array<{ file: string; samples: number; total: number; durationMs: number | null }>;
}

/** Pods -> one merged side; per-pod totals and labels recorded for the statistics. */
export async function merge(
  files: string[],
  out: string | undefined,
  jsonOut: string | undefined,
  labels: Record<string, string>,
  job: ReadJob,
): Promise<{ result: MergeResult; folded: string }> {
  const { result, folded } = await collapse(files, out, job);
  const merged: MergeResult = {
    ...result,
    labels,
    pods: result.inputs.map((i) => ({ file: i.file, samples: i.samples, total: i.total, durationMs: i.durationMs })),
  };
  if (jsonOut) await writeOutput(jsonOut, `${JSON.stringify(merged, null, 2)}\n`);
  return { result: merged, folded };
}

export interface DiffJobOutputs {
  html?: string;
  json?: string;
  md?: string;
  folded?: string;
  title?: string;
  /** Put the generation time into the HTML (off by default: outputs are deterministic). */
  timestamp?: boolean;
  tool: string;
}

export interface DiffJobResult extends DiffSummary {
  outputs: { html: string | null; json: string | null; md: string | null; folded: string | null };
}

export async function diff(
  baseFiles: string[],
  headFiles: string[],
  options: DiffOptions,
  outputs: DiffJobOutputs,
  job: ReadJob,
): Promise<{ result: DiffJobResult; markdown: string }> {
  checkOutputs(outputs);
  const [base, head] = await readSides(baseFiles, headFiles, job);
  return diffPods(base, head, options, outputs);
}

function checkOutputs(outputs: DiffJobOutputs): void {
  if (outputs.html && [outputs.json, outputs.md, outputs.folded].includes(outputs.html))
    throw usage('ERR_RECALL_OUTPUTS', 'two outputs would overwrite each other', {
      fix: 'give -o, --json-out, --md-out and --folded-out different paths',
    });
}

/** The diff and its outputs from pods already read (files or the profile store). */
export async function diffPods(
  base: PodProfile[],
  head: PodProfile[],
  options: DiffOptions,
  outputs: DiffJobOutputs,
): Promise<{ result: DiffJobResult; markdown: string }> {
  checkOutputs(outputs);
  const d = diffProfiles(base, head, options);
  const markdown = diffMarkdown(d.summary);
  const written = { html: null as string | null, json: null as string | null, md: null as string | null, folded: null as string | null };
  if (outputs.html) {
    const report: HtmlReport = {
      title: outputs.title ?? `${d.summary.sides.base.label} → ${d.summary.sides.head.label}`,
      generated: outputs.timestamp ? new Date().toISOString() : null,
      tool: outputs.tool,
      mode: d.summary.mode,
      unit: d.summary.unit,
      thresholds: d.summary.thresholds,
      sides: d.summary.sides,
      headTree: d.headTree,
      baseTree: d.baseTree,
      pruned: d.pruned,
      functions: d.summary.functions,
      verdict: d.summary.verdict,
      gated: d.summary.functions.filter((f) => f.gated).map((f) => f.name),
      warnings: d.summary.warnings,
    };
    await writeOutput(outputs.html, renderDiffHtml(report));
    written.html = outputs.html;
  }
  if (outputs.json) {
    await writeOutput(outputs.json, `${JSON.stringify(d.summary, null, 2)}\n`);
    written.json = outputs.json;
  }
  if (outputs.md) {
    await writeOutput(outputs.md, `${markdown}\n`);
    written.md = outputs.md;
  }
  if (outputs.folded) {
    await writeOutput(outputs.folded, d.folded);
    written.folded = outputs.folded;
  }
  return { result: { ...d.summary, outputs: written }, markdown };
}
