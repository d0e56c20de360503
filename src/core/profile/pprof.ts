/**
 * pprof `Profile` protobuf (gzipped or not) -> collapsed stacks, decoded with
 * the `pprof-format` package. One sample type is read: `--sample-type` if
 * given, else `cpu` by name (a CPU diff must not use `wall`), else the
 * profile's default, else the last one (as pprof and speedscope do).
 * Inlined functions of a location become frames of their own.
 */
import { Profile } from 'pprof-format';
import { badInput } from '../errors.js';
import { StackCounter } from './stacks.js';

export interface PprofResult {
  sampleType: string;
  unit: string;
  sampleTypes: string[];
  durationNs?: number;
  periodNs?: number;
  records: number;
  /** Distinct values per label key (capped), kept as metadata. */
  labels: Record<string, string>;
}

const num = (v: number | bigint | undefined) => (v === undefined ? 0 : Number(v));

export function readPprof(
  bytes: Uint8Array,
  path: string,
  sampleType?: string,
): { stacks: StackCounter; result: PprofResult; frameFiles: Map<string, string> } {
  let p: Profile;
  try {
    p = Profile.decode(bytes);
  } catch (e) {
    throw badInput('ERR_RECALL_PROFILE', `${path}: not a pprof profile (${(e as Error).message})`, {
      file: path,
      fix: 'pass a pprof protobuf (gzipped or not), perf script text or folded stacks; or force --format',
    });
  }
  // A reference that points nowhere is damage (exit 3), never an empty name or an "[unknown]" frame.
  const damaged = (what: string): never => {
    throw badInput('ERR_RECALL_PROFILE', `${path}: damaged pprof profile: ${what}`, {
      file: path,
      fix: 're-copy or re-record the profile',
    });
  };
  const strings = p.stringTable.strings;
  const str = (i: number | bigint) => {
    const n = Number(i);
    if (!(n >= 0 && n < strings.length)) damaged(`string index ${n} is outside the string table (${strings.length} strings)`);
    return strings[n]!;
  };
  const types = p.sampleType.map((t) => ({ type: str(t.type), unit: str(t.unit) }));
  if (!types.length) throw badInput('ERR_RECALL_PROFILE', `${path}: pprof profile has no sample types`, { file: path });
  let index: number;
  if (sampleType !== undefined) {
    index = types.findIndex((t) => t.type === sampleType);
    if (index < 0)
      throw badInput('ERR_RECALL_PROFILE', `${path}: no sample type "${sampleType}"`, {
        file: path,
        fix: `pick one of ${types.map((t) => t.type).join(', ')} with --sample-type`,
      });
  } else {
    index = types.findIndex((t) => t.type === 'cpu');
    if (index < 0 && num(p.defaultSampleType)) index = types.findIndex((t) => t.type === str(p.defaultSampleType));
    if (index < 0) index = types.length - 1;
  }
  // The sample count column, for the statistics.
  const countIndex = types.findIndex((t) => (t.type === 'samples' || t.type === 'sample') && t.unit === 'count');

  const functions = new Map<number, string>();
  /** Frame name -> Function.filename (first function of a name wins). */
  const frameFiles = new Map<string, string>();
  for (const f of p.function) {
    const name = str(f.name) || str(f.systemName) || `func#${num(f.id)}`;
    functions.set(num(f.id), name);
    const file = str(f.filename);
    const frame = name.replaceAll(';', ':');
    if (file && !frameFiles.has(frame)) frameFiles.set(frame, file);
  }
  const mappings = new Map<number, string>();
  for (const m of p.mapping) {
    const file = str(m.filename);
    mappings.set(num(m.id), file.slice(file.lastIndexOf('/') + 1) || 'unknown');
  }
  // Location -> its frames, innermost (inlined) first, as one folded fragment root-first.
  const locations = new Map<number, string>();
  for (const loc of p.location) {
    let names: string[];
    if (loc.line.length)
      names = loc.line.map(
        (l) =>
          functions.get(num(l.functionId))?.replaceAll(';', ':') ??
          damaged(`location ${num(loc.id)} names function id ${num(l.functionId)}, which is not in the function table`),
      );
    else {
      const mapping = num(loc.mappingId) ? mappings.get(num(loc.mappingId)) : 'unknown';
      if (mapping === undefined)
        damaged(`location ${num(loc.id)} names mapping id ${num(loc.mappingId)}, which is not in the mapping table`);
      names = [`${mapping}+0x${num(loc.address).toString(16)}`];
    }
    locations.set(num(loc.id), names.reverse().join(';'));
  }

  const stacks = new StackCounter();
  const labelValues = new Map<string, Set<string>>();
  for (const [at, s] of p.sample.entries()) {
    if (s.value.length !== types.length) damaged(`sample ${at} has ${s.value.length} values for ${types.length} sample types`);
    const weight = num(s.value[index]);
    if (!weight) continue;
    const ids = s.locationId;
    let key = '';
    for (let i = ids.length - 1; i >= 0; i--) {
      const frag =
        locations.get(num(ids[i]!)) ?? damaged(`sample ${at} names location id ${num(ids[i]!)}, which is not in the location table`);
      key = key ? `${key};${frag}` : frag;
    }
    if (!key) key = '[no stack]';
    const samples = countIndex >= 0 ? num(s.value[countIndex]) : 1;
    stacks.add(key, weight, samples);
    for (const l of s.label) {
      const k = str(l.key);
      const v = l.str ? str(l.str) : `${num(l.num)}${l.numUnit ? str(l.numUnit) : ''}`;
      let set = labelValues.get(k);
      if (!set) labelValues.set(k, (set = new Set()));
      if (set.size < 20) set.add(v);
    }
  }
  const labels: Record<string, string> = {};
  for (const [k, set] of [...labelValues].sort(([a], [b]) => (a < b ? -1 : 1))) labels[k] = [...set].sort().join('|');
  const periodUnit = p.periodType ? str(p.periodType.unit) : '';
  return {
    stacks,
    frameFiles,
    result: {
      sampleType: types[index]!.type,
      unit: types[index]!.unit,
      sampleTypes: types.map((t) => `${t.type}/${t.unit}`),
      durationNs: num(p.durationNanos) || undefined,
      periodNs: periodUnit === 'nanoseconds' ? num(p.period) : undefined,
      records: p.sample.length,
      labels,
    },
  };
}
