/**
 * One profile file in, one PodProfile out: the format is detected from the
 * content (gzip undone first), `format` forces it. Bad lines are counted and
 * reported; only a file where nothing parses is an error (exit 3).
 */
import buffer from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { badInput } from '../errors.js';
import { FoldedReader } from './folded.js';
import type { PodProfile, ProfileFormat } from './model.js';
import { PerfCollapser, type PerfOptions } from './perf.js';
import { readPprof } from './pprof.js';
import type { StackCounter } from './stacks.js';
import { DEFAULT_MAX_INPUT_BYTES, encodingOf, forEachLine, isGzip, readHead, tooLarge } from './text-input.js';

export interface ReadOptions extends PerfOptions {
  format?: ProfileFormat;
  /** pprof sample type (default: cpu, then the profile's default, then the last). */
  sampleType?: string;
  /** Unit of folded counts (default samples). */
  unit?: string;
  /** Weight of one sample for folded counts in time units, to recover sample counts. */
  period?: number;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** Bytes of one input after gunzip (--max-input-bytes); past it the file is refused. */
  maxInputBytes?: number;
  /** Hash the file as stored while it is read (PodProfile.sourceSha256): no second read. */
  sha256?: boolean;
}

export async function detectFormat(path: string): Promise<ProfileFormat> {
  const head = await readHead(path, 16 * 1024);
  const enc = encodingOf(head);
  if (enc === 'utf-8' && looksBinary(head)) {
    // Binary that does not start like a pprof message (zeros, say) is refused here, before
    // anything is inflated: a gzip of zeros would otherwise be read to its end.
    if (!startsLikePprof(head))
      throw badInput('ERR_RECALL_PROFILE', `${path}: binary data that is not a pprof profile`, {
        file: path,
        fix: 'pass a pprof protobuf (gzipped or not), perf script text or folded stacks; or force --format',
      });
    return 'pprof';
  }
  const text = new TextDecoder(enc).decode(head);
  const lines = text.split('\n', 200);
  // A frame line (`<addr> <symbol> (<dso>)`, indented), or an event line `comm [pid/]tid [cpu] time: `.
  for (const l of lines) if (/^\s+[0-9a-fA-F]+ .*\)\s*$/.test(l)) return 'perf';
  for (const l of lines) if (/^\s*\S.*?\s\d+(\/\d+)?\s+(\[\d+\]\s+)?\d+\.\d+:\s/.test(l)) return 'perf';
  // Old perf: `comm tid event:` lines without a time.
  for (const l of lines) if (/^\S.*?\s\d+(\/\d+)?\s+\S+:\s*$/.test(l)) return 'perf';
  return 'folded';
}

/** The first field of a pprof `Profile`: a tag of field 1..15 with wire type 0 (varint) or 2 (bytes). */
function startsLikePprof(b: Uint8Array): boolean {
  if (!b.length) return false;
  const field = b[0]! >> 3;
  const wire = b[0]! & 7;
  return field >= 1 && field <= 15 && (wire === 0 || wire === 2);
}

function looksBinary(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return true;
    if (c < 9 || (c > 13 && c < 32)) control++;
  }
  return control > n / 100;
}

const stacksOf = (c: StackCounter) => ({ stacks: c.map, totalWeight: c.totalWeight, totalSamples: c.totalSamples });

export async function readProfile(path: string, opt: ReadOptions = {}): Promise<PodProfile> {
  const format = opt.format ?? (await detectFormat(path));
  const pod: PodProfile = {
    source: path,
    format,
    unit: 'samples',
    stacks: new Map(),
    totalWeight: 0,
    totalSamples: 0,
    badLines: 0,
    warnings: [],
    labels: {},
  };
  const hash = opt.sha256 ? createHash('sha256') : undefined;
  const onRaw = hash && ((chunk: Buffer) => void hash.update(chunk));
  if (format === 'pprof') {
    const max = opt.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
    if ((await stat(path)).size > max) tooLarge(path, max, false);
    let bytes: Uint8Array = await readFile(path);
    hash?.update(bytes);
    if (isGzip(bytes)) {
      try {
        bytes = gunzipSync(bytes, { maxOutputLength: Math.min(max, buffer.constants.MAX_LENGTH) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') tooLarge(path, max, true);
        throw badInput('ERR_RECALL_PROFILE', `${path}: damaged gzip stream (${(e as Error).message})`, {
          file: path,
          fix: 're-copy the file',
        });
      }
    }
    const { stacks, result, frameFiles } = readPprof(bytes, path, opt.sampleType);
    if (frameFiles.size) pod.frameFiles = frameFiles;
    Object.assign(pod, stacksOf(stacks), {
      unit: result.unit || 'count',
      event: result.sampleType,
      durationNs: result.durationNs,
      labels: result.labels,
    });
    if (!result.sampleTypes.includes('cpu/nanoseconds') && opt.sampleType === undefined)
      pod.warnings.push(`${path}: no cpu sample type; using ${result.sampleType} (types: ${result.sampleTypes.join(', ')})`);
  } else if (format === 'perf') {
    const c = new PerfCollapser(opt);
    await forEachLine(path, c, { ...opt, maxBytes: opt.maxInputBytes, onRaw });
    const r = c.finish();
    if (c.frameFiles.size) pod.frameFiles = c.frameFiles;
    Object.assign(pod, stacksOf(c.stacks), {
      unit: r.event && /clock$/.test(r.event) ? 'nanoseconds' : 'events',
      event: r.event,
      durationNs: r.durationNs,
      badLines: r.badLines,
      firstBad: r.firstBad,
    });
    for (const [event, n] of r.skippedEvents)
      pod.warnings.push(`${path}: ${n} sample(s) of event ${event} skipped: only ${r.event} is kept (pick one with --event)`);
  } else {
    const f = new FoldedReader(opt.period);
    await forEachLine(path, f, { ...opt, maxBytes: opt.maxInputBytes, onRaw });
    const r = f.finish();
    Object.assign(pod, stacksOf(f.stacks), {
      unit: opt.unit ?? 'samples',
      badLines: r.badLines,
      firstBad: r.firstBad,
    });
    if (r.differential) pod.warnings.push(`${path}: ${r.differential} differential line(s) (two counts): the last count was read`);
  }
  if (pod.badLines)
    pod.warnings.push(
      `${path}: ${pod.badLines} line(s) did not parse as ${format}, skipped (first: line ${pod.firstBad!.line}: ${JSON.stringify(pod.firstBad!.text)})`,
    );
  if (pod.stacks.size === 0) {
    const where = pod.firstBad ? ` (first bad line ${pod.firstBad.line}: ${JSON.stringify(pod.firstBad.text)})` : '';
    throw badInput('ERR_RECALL_PROFILE_EMPTY', `${path}: no samples parsed as ${format}${where}`, {
      file: path,
      fix: 'pass perf script text, folded stacks or a pprof protobuf; --format forces one',
    });
  }
  if (hash) pod.sourceSha256 = hash.digest('hex');
  return pod;
}
