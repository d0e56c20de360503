/**
 * `recall.config.json`: read, validated against the JSON Schema shipped in
 * the package (schema/recall.config.schema.json, with Ajv), then the checks a
 * schema cannot express (a channel names a known source, names are unique,
 * one weight per text column). Every message names the file and the JSON path.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { badInput, usage } from '../errors.js';
import { requirePath } from '../io/paths.js';

export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../../../schema/recall.config.schema.json', import.meta.url));

export interface SourceConfig {
  inputs: string[];
  key: string;
  where?: string;
}

interface ChannelBase {
  name: string;
  source: string;
}
export interface X2iChannelConfig extends ChannelBase {
  kind: 'x2i';
  /** Precomputed lists: the list columns (the source's key is the key). */
  neighbors?: string;
  scores?: string;
  topK?: number;
  minScore?: number;
  seed?: string;
  /** Or lists computed from interaction rows (one index over the whole source, like `build x2i --from-interactions`). */
  fromInteractions?: boolean;
  user?: string;
  item?: string;
  ts?: string;
  weight?: string;
  action?: string;
  actionWeights?: Record<string, number>;
  algo?: 'cooc' | 'cosine' | 'jaccard' | 'condprob' | 'iuf' | 'decay' | 'swing';
  userCap?: number;
  minUserItems?: number;
  maxUserItems?: number;
  minCommon?: number;
  alpha?: number;
  decayHours?: number;
  swingAlpha1?: number;
  swingAlpha2?: number;
  swingBeta?: number;
  itemUserCap?: number;
}
export interface VectorChannelConfig extends ChannelBase {
  kind: 'vector';
  vector: string;
  type?: 'hnsw' | 'ivf' | 'flat';
  metric?: 'l2' | 'ip' | 'cosine';
  quant?: 'f32' | 'f16' | 'int8';
  m?: number;
  efConstruction?: number;
  nlist?: number;
  kmeansIters?: number;
  rerank?: boolean;
  seed?: string;
}
/** The text channel; `kind` is the name users write in recall.config.json. */
export interface TextChannelConfig extends ChannelBase {
  kind: 'inverted';
  text: string[];
  weights?: number[];
  analyzer?: 'standard' | 'jieba';
  pairs?: 'off' | 'cooc' | 'adjacent';
  pairBudget?: number;
  pairMinDf?: number;
  forward?: boolean;
  k1?: number;
  b?: number;
}
export type ChannelConfig = X2iChannelConfig | VectorChannelConfig | TextChannelConfig;

/** How `recall merge` and `recall eval` combine the channels (paths resolved against the config's folder). */
export interface MergeConfig {
  k: number;
  fusion: 'weighted' | 'rrf';
  rrfK?: number;
  channels: Record<string, { quota?: number; weight?: number }>;
  seeds: number;
  allow?: string;
  deny?: string;
}

/** Thresholds of `recall dqc` (every field has its default filled in). */
export interface DqcConfig {
  sample: number;
  countChange: number;
  psi: number;
  top10Changed: number;
  emptyLists: number;
  duplicates: number;
  badScores: number;
  scoreRange?: [number, number];
  vocabChange: number;
  /** Text: largest share of a field's top terms (by df) that left the top list. */
  topTermsChurn: number;
  /** Text: largest mean relative change of the df share (df / docs) of the terms in both top lists. */
  topTermsDf: number;
  graphRecall: number;
}

export const DQC_DEFAULTS: DqcConfig = {
  sample: 2000,
  countChange: 0.2,
  psi: 0.25,
  top10Changed: 0.5,
  emptyLists: 0.01,
  duplicates: 0,
  badScores: 0,
  vocabChange: 0.3,
  topTermsChurn: 0.5,
  topTermsDf: 0.5,
  graphRecall: 0.8,
};

export interface RecallConfig {
  out: string;
  shards: number;
  threads?: number;
  sources: Record<string, SourceConfig>;
  channels: ChannelConfig[];
  merge?: MergeConfig;
  dqc: DqcConfig;
  /** The config file (paths in it are relative to its folder). */
  file: string;
}

let validator: ReturnType<Ajv2020['compile']> | undefined;
async function validate(doc: unknown): Promise<ErrorObject[]> {
  if (!validator) {
    const schema = JSON.parse(await readFile(CONFIG_SCHEMA_PATH, 'utf8')) as object;
    validator = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  }
  return validator(doc) ? [] : (validator.errors ?? []);
}

/** One line per problem: the JSON path and what is wrong there (if/then wrappers left out). */
function describe(errors: ErrorObject[]): string[] {
  const lines = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const path = e.instancePath || '/';
    if (e.keyword === 'required') lines.add(`${path}: missing "${(e.params as { missingProperty: string }).missingProperty}"`);
    else if (e.keyword === 'additionalProperties')
      lines.add(`${path}: unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`);
    else if (e.keyword === 'propertyNames')
      lines.add(
        `${path}: source name ${JSON.stringify((e.params as { propertyName: string }).propertyName)} is not an identifier (letters, digits, _ and -)`,
      );
    else if (e.keyword === 'pattern' && e.propertyName !== undefined)
      continue; // reported by its propertyNames line
    else if (e.keyword === 'enum')
      lines.add(
        `${path}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
      );
    else lines.add(`${path}: ${e.message}`);
  }
  return [...lines];
}

export async function loadConfig(file: string): Promise<RecallConfig> {
  let text: string;
  await requirePath(file, 'file', '--config');
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw usage(
      'ERR_RECALL_NO_SUCH_PATH',
      `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      { file, fix: 'pass --config recall.config.json' },
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw badInput('ERR_RECALL_BAD_CONFIG', `${file}: not valid JSON (${(e as Error).message})`, { file, fix: 'fix the JSON syntax' });
  }
  const problems = describe(await validate(doc));
  const c = doc as Omit<RecallConfig, 'file' | 'merge' | 'dqc'> & {
    out?: string;
    shards?: number;
    merge?: Partial<MergeConfig> & Pick<MergeConfig, 'channels'>;
    dqc?: Partial<DqcConfig>;
  };
  if (problems.length === 0) {
    const names = new Set<string>();
    c.channels.forEach((ch, i) => {
      if (!(ch.source in c.sources))
        problems.push(`/channels/${i}/source: no source named "${ch.source}" (sources: ${Object.keys(c.sources).join(', ')})`);
      if (names.has(ch.name)) problems.push(`/channels/${i}/name: "${ch.name}" is used twice`);
      if (ch.name === 'shards') problems.push(`/channels/${i}/name: "shards" is the folder of the sharded sources`);
      names.add(ch.name);
      if ('weights' in ch && ch.weights && ch.weights.length !== ch.text.length)
        problems.push(`/channels/${i}/weights: ${ch.weights.length} weights for ${ch.text.length} text columns`);
    });
    for (const name of Object.keys(c.merge?.channels ?? {}))
      if (!names.has(name)) problems.push(`/merge/channels/${name}: no channel named "${name}" (channels: ${[...names].join(', ')})`);
    const range = c.dqc?.scoreRange;
    if (range && !(range[0] <= range[1])) problems.push(`/dqc/scoreRange: [${range.join(', ')}] is not [min, max]`);
  }
  if (problems.length) {
    throw badInput('ERR_RECALL_BAD_CONFIG', `${file}: ${problems.join('; ')}`, { file, fix: `see ${CONFIG_SCHEMA_PATH}` });
  }
  // paths relative to the config file
  const base = dirname(resolve(file));
  const at = (p: string) => (isAbsolute(p) ? p : join(base, p));
  const sources = Object.fromEntries(Object.entries(c.sources).map(([k, s]) => [k, { ...s, inputs: s.inputs.map(at) }]));
  const merge: MergeConfig | undefined = c.merge && {
    k: c.merge.k ?? 100,
    fusion: c.merge.fusion ?? 'weighted',
    rrfK: c.merge.rrfK,
    channels: c.merge.channels,
    seeds: c.merge.seeds ?? 20,
    allow: c.merge.allow === undefined ? undefined : at(c.merge.allow),
    deny: c.merge.deny === undefined ? undefined : at(c.merge.deny),
  };
  const dqc: DqcConfig = { ...DQC_DEFAULTS, ...c.dqc };
  return { out: at(c.out ?? 'out'), shards: c.shards ?? 1, threads: c.threads, sources, channels: c.channels, merge, dqc, file };
}
