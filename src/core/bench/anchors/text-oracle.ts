/**
 * The TypeScript reference for the text channel: its own analyzer (regular
 * expressions over Node's ICU instead of the generated Rust tables), a plain
 * typed-array inverted index, its own query parser and normalisation, and
 * exhaustive BM25 evaluation (no skipping, no pruning, no pair lists). Tests
 * compare the native index with it; `bench inverted` times it as the anchor.
 * Scores follow the native scorer exactly (quantised doc lengths, f64 sums in ascending
 * term-ordinal order), so they agree with the native ones to the last bits.
 */

const WORD = /[\p{L}\p{N}\p{M}]/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const ALNUM = /[A-Za-z0-9]/;

/** Tokens of prepared (NFKC, maybe pre-segmented) text; `bigrams`: standard CJK handling. */
export function oracleTokens(text: string, bigrams: boolean, maxTokenBytes = 255): string[] {
  const out: string[] = [];
  const emit = (t: string) => {
    if (t && Buffer.byteLength(t) <= maxTokenBytes) out.push(t);
  };
  let word = '';
  let prev = '';
  let run = 0;
  const endRun = () => {
    if (run === 1) emit(prev.toLowerCase());
    prev = '';
    run = 0;
  };
  for (const ch of text) {
    const ascii = ch.charCodeAt(0) < 0x80;
    const isWord = ascii ? ALNUM.test(ch) : WORD.test(ch);
    if (isWord && bigrams && !ascii && CJK.test(ch)) {
      emit(word);
      word = '';
      if (run > 0) emit(prev.toLowerCase() + ch.toLowerCase());
      prev = ch;
      run++;
      continue;
    }
    if (run > 0) endRun();
    if (!isWord) {
      emit(word);
      word = '';
    } else word += ch.toLowerCase();
  }
  if (run > 0) endRun();
  emit(word);
  return out;
}

/** The DOC_LENS table of the native scorer (exact below 48, then steps <= 6.25%). */
export const LEN_TABLE: number[] = (() => {
  const t = [0];
  for (let c = 1; c < 256; c++) t.push(c < 48 ? c : Math.max(t[c - 1]! + 1, Math.floor((t[c - 1]! * 17) / 16)));
  return t;
})();
const lenCode = (len: number): number => {
  let lo = 0;
  let hi = 255;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (LEN_TABLE[mid]! <= len) lo = mid;
    else hi = mid - 1;
  }
  return lo;
};

type Q =
  | { t: 'term'; field?: string; text: string; boost: number; phrase: boolean }
  | { t: 'and' | 'or'; kids: Q[] }
  | { t: 'not'; kid: Q };

export class OracleQueryError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

function parse(q: string, defaultOr: boolean, fields: string[]): Q | null {
  type Tok = { k: 'word' | 'phrase' | 'boost'; v: string } | { k: '(' | ')' | 'AND' | 'OR' | 'NOT' | '-' };
  const toks: Tok[] = [];
  const cs = [...q];
  const isSpace = (c: string | undefined) => c !== undefined && /\s/u.test(c);
  for (let i = 0; i < cs.length; ) {
    const c = cs[i]!;
    if (isSpace(c)) i++;
    else if (c === '(' || c === ')') toks.push({ k: c }), i++;
    else if (c === '"') {
      const j = cs.indexOf('"', i + 1);
      if (j < 0) throw new OracleQueryError('QUERY_SYNTAX');
      toks.push({ k: 'phrase', v: cs.slice(i + 1, j).join('') });
      i = j + 1;
    } else if (c === '^' || (c === '-' && i + 1 < cs.length && !isSpace(cs[i + 1]))) {
      if (c === '-') {
        toks.push({ k: '-' });
        i++;
        continue;
      }
      let j = i + 1;
      while (j < cs.length && !isSpace(cs[j]) && !'()"'.includes(cs[j]!)) j++;
      toks.push({ k: 'boost', v: cs.slice(i + 1, j).join('') });
      i = j;
    } else {
      let j = i;
      while (j < cs.length && !isSpace(cs[j]) && !'()"^'.includes(cs[j]!)) j++;
      const w = cs.slice(i, j).join('');
      toks.push(w === 'AND' || w === 'OR' || w === 'NOT' ? { k: w } : { k: 'word', v: w });
      i = j;
    }
  }
  if (!toks.length) return null;
  let p = 0;
  const boost = (): number => {
    const t = toks[p];
    if (t?.k !== 'boost') return 1;
    p++;
    const b = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t.v) ? Number(t.v) : NaN;
    if (!(b > 0) || !Number.isFinite(b)) throw new OracleQueryError('BAD_BOOST');
    return b;
  };
  const primary = (): Q => {
    const t = toks[p];
    if (!t) throw new OracleQueryError('QUERY_SYNTAX');
    if (t.k === '(') {
      p++;
      const inner = orExpr();
      if (toks[p]?.k !== ')') throw new OracleQueryError('QUERY_SYNTAX');
      p++;
      return inner;
    }
    if (t.k === 'phrase') {
      p++;
      return { t: 'term', text: t.v, boost: boost(), phrase: true };
    }
    if (t.k === 'word') {
      p++;
      const b = boost();
      const colon = t.v.indexOf(':');
      if (colon >= 0 && fields.includes(t.v.slice(0, colon))) {
        const field = t.v.slice(0, colon);
        const rest = t.v.slice(colon + 1);
        if (!rest && toks[p]?.k === 'phrase') {
          const ph = toks[p++] as { v: string };
          return { t: 'term', field, text: ph.v, boost: boost(), phrase: true };
        }
        return { t: 'term', field, text: rest, boost: b, phrase: false };
      }
      // as the native parser: `name:word` naming no field is an error; times and URLs stay words
      if (colon > 0 && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(t.v.slice(0, colon)) && colon + 1 < t.v.length && t.v[colon + 1] !== '/')
        throw new OracleQueryError('UNKNOWN_FIELD');
      return { t: 'term', text: t.v, boost: b, phrase: false };
    }
    throw new OracleQueryError('QUERY_SYNTAX');
  };
  const unary = (): Q => {
    const t = toks[p];
    if (t?.k === 'NOT' || t?.k === '-') {
      p++;
      return { t: 'not', kid: unary() };
    }
    return primary();
  };
  const juxt = (): Q => {
    const parts = [unary()];
    while (toks[p] && ['word', 'phrase', '(', 'NOT', '-'].includes(toks[p]!.k)) parts.push(unary());
    return parts.length === 1 ? parts[0]! : { t: defaultOr ? 'or' : 'and', kids: parts };
  };
  const andExpr = (): Q => {
    const parts = [juxt()];
    while (toks[p]?.k === 'AND') p++, parts.push(juxt());
    return parts.length === 1 ? parts[0]! : { t: 'and', kids: parts };
  };
  const orExpr = (): Q => {
    const parts = [andExpr()];
    while (toks[p]?.k === 'OR') p++, parts.push(andExpr());
    return parts.length === 1 ? parts[0]! : { t: 'or', kids: parts };
  };
  const r = orExpr();
  if (p !== toks.length) throw new OracleQueryError('QUERY_SYNTAX');
  return r;
}

/** Normalised node: terms carry their key (field index + token). */
type N = { t: 'term'; key: string; boost: number } | { t: 'and' | 'or'; kids: N[] } | { t: 'not'; kid: N };

export interface OracleOptions {
  fields: string[];
  weights?: number[];
  /** CJK bigrams (standard) or pre-segmented text (jieba). */
  bigrams?: boolean;
  maxTokenBytes?: number;
  k1?: number;
  b?: number;
  /** Text as the native side receives it (NFKC, jieba segmentation). */
  prepare?: (s: string) => string;
}

interface Posting {
  docs: Uint32Array;
  tfs: Uint32Array;
}

export class OracleIndex {
  readonly n: number;
  readonly ids: (bigint | string)[];
  private readonly postings = new Map<string, Posting>();
  private readonly ord = new Map<string, number>();
  private readonly codes: Uint8Array[];
  private readonly avgdl: number[];
  private readonly o: Required<OracleOptions>;

  /** `docs`: [id, texts per field]; a later row with the same id replaces an earlier one. */
  constructor(docs: readonly (readonly [bigint | string, readonly (string | null)[]])[], options: OracleOptions) {
    this.o = { weights: options.fields.map(() => 1), bigrams: true, maxTokenBytes: 255, k1: 1.2, b: 0.75, prepare: (s) => s, ...options };
    const last = new Map<bigint | string, number>();
    docs.forEach(([id], i) => last.set(id, i));
    const kept = docs.filter(([id], i) => last.get(id) === i);
    this.n = kept.length;
    this.ids = kept.map(([id]) => id);
    const nf = this.o.fields.length;
    this.codes = this.o.fields.map(() => new Uint8Array(this.n));
    const totals = new Array<number>(nf).fill(0);
    const lists = new Map<string, number[]>();
    kept.forEach(([, texts], d) => {
      const tf = new Map<string, number>();
      for (let f = 0; f < nf; f++) {
        const toks = oracleTokens(this.o.prepare(texts[f] ?? ''), this.o.bigrams, this.o.maxTokenBytes);
        totals[f]! += toks.length;
        this.codes[f]![d] = lenCode(toks.length);
        for (const t of toks) {
          const key = String.fromCharCode(f) + t;
          tf.set(key, (tf.get(key) ?? 0) + 1);
        }
      }
      for (const [key, c] of tf) {
        let l = lists.get(key);
        if (!l) lists.set(key, (l = []));
        l.push(d, c);
      }
    });
    for (const [key, l] of lists) {
      const docs2 = new Uint32Array(l.length / 2);
      const tfs = new Uint32Array(l.length / 2);
      for (let i = 0; i < docs2.length; i++) {
        docs2[i] = l[2 * i]!;
        tfs[i] = l[2 * i + 1]!;
      }
      this.postings.set(key, { docs: docs2, tfs });
    }
    // term ordinals: keys in UTF-8 byte order (field byte first)
    const keys = [...lists.keys()].map((k) => ({ k, b: Buffer.from(k, 'utf8') }));
    keys.sort((a, b) => Buffer.compare(a.b, b.b));
    keys.forEach((x, i) => this.ord.set(x.k, i));
    this.avgdl = totals.map((t) => (this.n ? t / this.n : 0));
  }

  get terms(): number {
    return this.postings.size;
  }

  private normalize(q: Q): N | null {
    const fieldIdx = (f?: string) => (f === undefined ? this.o.fields.map((_, i) => i) : [this.o.fields.indexOf(f)]);
    const expand = (x: Q): N | null => {
      if (x.t === 'term') {
        const toks = oracleTokens(x.text, this.o.bigrams, this.o.maxTokenBytes);
        const fs = fieldIdx(x.field);
        const alt = (t: string): N => {
          const a: N[] = fs.map((f) => ({ t: 'term', key: String.fromCharCode(f) + t, boost: x.boost * this.o.weights[f]! }));
          return a.length === 1 ? a[0]! : { t: 'or', kids: a };
        };
        const ands = toks.map(alt);
        // a phrase is the And of its words (the native side without adjacent pair lists)
        return ands.length === 0 ? null : ands.length === 1 ? ands[0]! : { t: 'and', kids: ands };
      }
      if (x.t === 'not') {
        const k = expand(x.kid);
        return k ? { t: 'not', kid: k } : null;
      }
      const kids = x.kids.map(expand).filter((k): k is N => k !== null);
      return kids.length ? { t: x.t, kids } : null;
    };
    const dedup = (v: N[]): N[] => {
      const out: N[] = [];
      for (const n of v) {
        const d = out.find(
          (o) =>
            (o.t === 'term' && n.t === 'term' && o.key === n.key) ||
            (o.t === 'not' && n.t === 'not' && o.kid.t === 'term' && n.kid.t === 'term' && o.kid.key === n.kid.key),
        );
        if (!d) out.push(n);
        else if (d.t === 'term' && n.t === 'term') d.boost = Math.max(d.boost, n.boost);
      }
      return out;
    };
    const simplify = (n: N): N => {
      if (n.t === 'and') {
        const out: N[] = [];
        for (const k0 of n.kids) {
          const k = simplify(k0);
          if (k.t === 'and') out.push(...k.kids);
          else if (k.t === 'not' && k.kid.t === 'not') {
            const x = k.kid.kid;
            if (x.t === 'and') out.push(...x.kids);
            else out.push(x);
          } else out.push(k);
        }
        const d = dedup(out);
        return d.length === 1 && d[0]!.t !== 'not' ? d[0]! : { t: 'and', kids: d };
      }
      if (n.t === 'or') {
        const out: N[] = [];
        for (const k0 of n.kids) {
          const k = simplify(k0);
          if (k.t === 'or') out.push(...k.kids);
          else if (k.t === 'not') throw new OracleQueryError('QUERY_SYNTAX');
          else out.push(k);
        }
        const d = dedup(out);
        return d.length === 1 ? d[0]! : { t: 'or', kids: d };
      }
      if (n.t === 'not') return { t: 'not', kid: simplify(n.kid) };
      return n;
    };
    const e = expand(q);
    if (!e) return null;
    const s = simplify(e);
    const measure = (n: N): [number, number] => {
      if (n.t === 'term') return [1, 1];
      if (n.t === 'not') {
        const [l, d] = measure(n.kid);
        return [l, d + 1];
      }
      return n.kids.map(measure).reduce<[number, number]>(([l, d], [l2, d2]) => [l + l2, Math.max(d, d2 + 1)], [0, 0]);
    };
    const [leaves, depth] = measure(s);
    if (leaves > 64 || depth > 8) throw new OracleQueryError('QUERY_TOO_LARGE');
    return s;
  }

  /** Top-k (score desc, doc asc) by exhaustive evaluation; throws OracleQueryError like the native codes. */
  search(
    query: string,
    o: { k: number; defaultOr?: boolean; matchAllPureNot?: boolean; k1?: number; b?: number },
  ): { ids: (bigint | string)[]; scores: number[]; total: number } {
    const empty = { ids: [], scores: [], total: 0 };
    const q = parse(query, !!o.defaultOr, this.o.fields);
    if (!q) return empty;
    const norm = this.normalize(q);
    if (!norm) return empty;
    // resolve: unknown terms empty an And, drop from Or / Not; pure Not is an error
    type R =
      | { t: 'term'; key: string; boost: number; p: Posting; reg: number }
      | { t: 'and'; pos: R[]; neg: R[] }
      | { t: 'or'; kids: R[] }
      | { t: 'all' };
    let reg = 0;
    const resolve = (n: N, top: boolean): R | 'empty' | 'unknown' => {
      if (n.t === 'term') {
        const p = this.postings.get(n.key);
        return p ? { t: 'term', key: n.key, boost: n.boost, p, reg: reg++ } : 'unknown';
      }
      if (n.t === 'not') {
        if (top) return resolve({ t: 'and', kids: [n] }, false);
        throw new Error('not outside and');
      }
      if (n.t === 'or') {
        const kids = n.kids.map((k) => resolve(k, false)).filter((k): k is R => typeof k !== 'string');
        return kids.length === 0 ? 'empty' : kids.length === 1 ? kids[0]! : { t: 'or', kids };
      }
      const pos: R[] = [];
      const neg: R[] = [];
      let isEmpty = false;
      for (const k of n.kids) {
        if (k.t === 'not') {
          const r = resolve(k.kid, false);
          if (typeof r !== 'string') neg.push(r);
          continue;
        }
        const r = resolve(k, false);
        if (typeof r === 'string') isEmpty = true;
        else pos.push(r);
      }
      if (!pos.length && !isEmpty) {
        if (!o.matchAllPureNot) throw new OracleQueryError('NOT_ONLY_QUERY');
        pos.push({ t: 'all' });
      }
      if (isEmpty) return 'empty';
      return pos.length === 1 && !neg.length ? pos[0]! : { t: 'and', pos, neg };
    };
    const root = resolve(norm, true);
    if (typeof root === 'string') return empty;
    const k1 = o.k1 ?? this.o.k1;
    const b = o.b ?? this.o.b;
    const N = this.n;
    const tfAt = (p: Posting, d: number): number => {
      let lo = 0;
      let hi = p.docs.length - 1;
      while (lo <= hi) {
        const m = (lo + hi) >> 1;
        if (p.docs[m] === d) return p.tfs[m]!;
        if (p.docs[m]! < d) lo = m + 1;
        else hi = m - 1;
      }
      return 0;
    };
    const matches = (r: R, d: number): boolean => {
      if (r.t === 'term') return tfAt(r.p, d) > 0;
      if (r.t === 'all') return true;
      if (r.t === 'or') return r.kids.some((k) => matches(k, d));
      return r.pos.every((k) => matches(k, d)) && !r.neg.some((k) => matches(k, d));
    };
    const contrib = (r: R & { t: 'term' }, d: number): number => {
      const f = r.key.charCodeAt(0);
      const avgdl = this.avgdl[f]!;
      if (avgdl === 0) return 0;
      const df = r.p.docs.length;
      const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5));
      const w = r.boost * idf;
      const tf = tfAt(r.p, d);
      const dl = LEN_TABLE[this.codes[f]![d]!]!;
      return w * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * dl) / avgdl)));
    };
    const collect = (r: R, d: number, out: [number, number, number][]) => {
      if (!matches(r, d)) return;
      if (r.t === 'term') out.push([this.ord.get(r.key)!, r.reg, contrib(r, d)]);
      else if (r.t === 'or') for (const k of r.kids) collect(k, d, out);
      else if (r.t === 'and') for (const k of r.pos) collect(k, d, out);
    };
    // candidates: docs of the positive terms (every doc for match-all)
    const cands = new Set<number>();
    const gather = (r: R): boolean => {
      if (r.t === 'term') {
        for (const d of r.p.docs) cands.add(d);
        return false;
      }
      if (r.t === 'all') return true;
      if (r.t === 'or') return r.kids.map(gather).some(Boolean);
      return r.pos.map(gather).some(Boolean);
    };
    const docs = gather(root) ? Array.from({ length: N }, (_, i) => i) : [...cands].sort((x, y) => x - y);
    const hits: [number, number][] = [];
    for (const d of docs) {
      if (!matches(root, d)) continue;
      const parts: [number, number, number][] = [];
      collect(root, d, parts);
      parts.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let s = 0;
      for (const p of parts) s += p[2];
      hits.push([d, s]);
    }
    const total = hits.length;
    hits.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    const top = o.k === 0 ? [] : hits.slice(0, o.k);
    return { ids: top.map((h) => this.ids[h[0]]!), scores: top.map((h) => h[1]), total };
  }
}
