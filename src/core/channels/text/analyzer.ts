/**
 * Analyzers of the text channel. The token rules live in Rust
 * (native/core/src/text/analyzer.rs); this side applies NFKC (Node's ICU) and,
 * for Chinese, jieba segmentation (`@node-rs/jieba`), then hands the text over.
 * Each analyzer has a canonical description stored in the index; a query is
 * refused when this installation would analyze differently.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { badInput } from '../../errors.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { loadNative, type TextSegmentation } from '../../native.js';

export type AnalyzerName = 'standard' | 'jieba';
export const ANALYZERS: readonly AnalyzerName[] = ['standard', 'jieba'];

export interface Analyzer {
  name: AnalyzerName;
  segmentation: TextSegmentation;
  maxTokenBytes: number;
  /** Canonical JSON stored in the index. */
  description: string;
  /** Text as the index side passes it to the native analyzer. */
  prepareDoc(text: string): string;
  /** A query string as the native query parser receives it (syntax kept). */
  prepareQuery(query: string): string;
}

// Pure-ASCII text is already NFKC: skip the ICU call for it.
const ASCII = /^[\x00-\x7f]*$/;
export const nfkc = (s: string): string => (ASCII.test(s) ? s : s.normalize('NFKC'));

interface JiebaLike {
  cut(s: string, hmm?: boolean): string[];
  cutForSearch(s: string, hmm?: boolean): string[];
}
let jieba: { instance: JiebaLike; version: string; dictHash: string } | undefined;

function loadJieba() {
  if (jieba) return jieba;
  const require = createRequire(import.meta.url);
  const { Jieba } = require('@node-rs/jieba') as { Jieba: { withDict(d: Uint8Array): JiebaLike } };
  const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array };
  const version = (require('@node-rs/jieba/package.json') as { version: string }).version;
  jieba = { instance: Jieba.withDict(dict), version, dictHash: createHash('sha256').update(dict).digest('hex').slice(0, 16) };
  return jieba;
}

// Han runs (the only text jieba changes); everything else passes through.
const HAN_RUN = /\p{Script=Han}+/gu;

export function makeAnalyzer(name: AnalyzerName, maxTokenBytes = 255): Analyzer {
  const tables = loadNative().textTables();
  const common = {
    nfkc: `unicode-${process.versions.unicode}`,
    lowercase: 'per-code-point',
    tokens: 'runs of L|N|M',
    maxTokenBytes,
    tables: `unicode-${tables.unicode}/${tables.hash}`,
  };
  if (name === 'standard') {
    return {
      name,
      segmentation: 'standard',
      maxTokenBytes,
      description: canonicalJson({ name, ...common, cjk: 'bigrams' }),
      prepareDoc: nfkc,
      prepareQuery: nfkc,
    };
  }
  const j = loadJieba();
  return {
    name,
    segmentation: 'segmented',
    maxTokenBytes,
    description: canonicalJson({
      name,
      ...common,
      cjk: 'words',
      tokenizer: `@node-rs/jieba@${j.version}`,
      dict: j.dictHash,
      index: 'cutForSearch(hmm)',
      query: 'cut(hmm)',
    }),
    // words separated by NUL: the native side splits there and on non-word characters
    prepareDoc: (text) => {
      const t = nfkc(text);
      return /\p{Script=Han}/u.test(t) ? j.instance.cutForSearch(t, true).join('\0') : t;
    },
    prepareQuery: (q) => nfkc(q).replace(HAN_RUN, (run) => j.instance.cut(run, true).join(' ')),
  };
}

/** The analyzer an index was built with, if this installation reproduces it exactly. */
export function analyzerFor(description: string, file: string, override = false): Analyzer {
  let name: AnalyzerName | undefined;
  let maxTokenBytes = 255;
  try {
    const d = JSON.parse(description) as { name?: string; maxTokenBytes?: number };
    if (ANALYZERS.includes(d.name as AnalyzerName)) name = d.name as AnalyzerName;
    maxTokenBytes = d.maxTokenBytes ?? 255;
  } catch {
    /* reported below */
  }
  if (!name)
    throw badInput('ERR_RECALL_ANALYZER_MISMATCH', `${file}: unknown analyzer ${description}`, {
      file,
      fix: 'query it with the recall version that built it',
    });
  const mine = makeAnalyzer(name, maxTokenBytes);
  if (mine.description !== description && !override) {
    throw badInput(
      'ERR_RECALL_ANALYZER_MISMATCH',
      `${file}: the index was analyzed with ${description}, this installation analyzes with ${mine.description}`,
      {
        file,
        fix: 'rebuild the index with this installation, or pass --analyzer-override to query anyway',
      },
    );
  }
  return mine;
}
