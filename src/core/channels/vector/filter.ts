/**
 * Filters of a vector search: an allow-list of ids (a file, one id per line) and a predicate
 * over the integer attribute the index kept at build time (`--attr`). The predicate is compiled
 * to the closed ranges of attribute values it accepts, which the native search turns into a row
 * set once per batch.
 *
 *   category = 3            price_bucket between 2 and 5        shop in (7, 9, 12)
 *   category != 3 and shop not in (1, 2)       (a < 10 or a > 90) and not a = 50
 */
import { readFile } from 'node:fs/promises';
import { badInput, usage } from '../../errors.js';

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** A set of attribute values: sorted, disjoint, non-adjacent closed ranges. */
type Ranges = Array<[bigint, bigint]>;

function normalise(r: Ranges): Ranges {
  const sorted = r.filter(([lo, hi]) => lo <= hi).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Ranges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) last[1] = hi > last[1] ? hi : last[1];
    else out.push([lo, hi]);
  }
  return out;
}

const union = (a: Ranges, b: Ranges): Ranges => normalise([...a, ...b].map(([lo, hi]) => [lo, hi]));

function complement(a: Ranges): Ranges {
  const out: Ranges = [];
  let from = I64_MIN;
  for (const [lo, hi] of a) {
    if (lo > from) out.push([from, lo - 1n]);
    if (hi === I64_MAX) return out;
    from = hi + 1n;
  }
  out.push([from, I64_MAX]);
  return out;
}

const intersect = (a: Ranges, b: Ranges): Ranges => complement(union(complement(a), complement(b)));

type Token = { kind: 'word' | 'int' | 'op' | 'punct'; text: string; at: number };

function tokens(expr: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(-?\d+)|([A-Za-z_][\w.]*)|(<=|>=|<>|!=|==|=|<|>)|([(),]))/y;
  let at = 0;
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (!m) throw whereError(expr, at, 'an unexpected character');
    const start = m.index + m[0].length - (m[1] ?? m[2] ?? m[3] ?? m[4])!.length;
    if (m[1] !== undefined) out.push({ kind: 'int', text: m[1], at: start });
    else if (m[2] !== undefined) out.push({ kind: 'word', text: m[2], at: start });
    else if (m[3] !== undefined) out.push({ kind: 'op', text: m[3], at: start });
    else out.push({ kind: 'punct', text: m[4]!, at: start });
    at = re.lastIndex;
  }
  return out;
}

function whereError(expr: string, at: number, what: string) {
  return usage('ERR_RECALL_FLAG', `--where '${expr}': ${what} at character ${at + 1}`, {
    fix: "write e.g. --where 'category = 3', 'price between 2 and 5', 'shop in (7, 9)', joined by and / or / not",
  });
}

/**
 * The attribute values `expr` accepts, as closed ranges (lo, hi pairs). `attr` is the attribute the
 * index keeps: the expression may only name it.
 */
export function compileWhere(expr: string, attr: string | null): BigInt64Array {
  const ts = tokens(expr);
  let i = 0;
  const peek = () => ts[i];
  const isWord = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toLowerCase() === w;
  const fail = (what: string): never => {
    throw whereError(expr, peek()?.at ?? expr.length, what);
  };
  const int = (): bigint => {
    const t = ts[i++];
    if (t?.kind !== 'int') fail('an integer expected');
    const v = BigInt(t!.text);
    if (v < I64_MIN || v > I64_MAX) fail(`${t!.text} is outside the 64-bit integer range`);
    return v;
  };
  const expect = (text: string) => {
    if (peek()?.text !== text) fail(`'${text}' expected`);
    i++;
  };
  const disjunction = (): Ranges => {
    let r = conjunction();
    while (isWord(peek(), 'or')) {
      i++;
      r = union(r, conjunction());
    }
    return r;
  };
  const conjunction = (): Ranges => {
    let r = factor();
    while (isWord(peek(), 'and')) {
      i++;
      r = intersect(r, factor());
    }
    return r;
  };
  const factor = (): Ranges => {
    const t = peek();
    if (t?.text === '(') {
      i++;
      const r = disjunction();
      expect(')');
      return r;
    }
    if (isWord(t, 'not')) {
      i++;
      return complement(factor());
    }
    if (t?.kind !== 'word' || ['and', 'or', 'in', 'between'].includes(t.text.toLowerCase())) fail('an attribute name expected');
    if (attr !== null && t!.text !== attr)
      throw usage('ERR_RECALL_FLAG', `--where names "${t!.text}", and the index keeps the attribute "${attr}"`, {
        fix: `filter on ${attr}, or rebuild with --attr ${t!.text}`,
      });
    i++;
    const negate = isWord(peek(), 'not');
    if (negate) i++;
    let r: Ranges;
    if (isWord(peek(), 'in')) {
      i++;
      expect('(');
      const vals = [int()];
      while (peek()?.text === ',') {
        i++;
        vals.push(int());
      }
      expect(')');
      r = normalise(vals.map((v) => [v, v]));
    } else if (isWord(peek(), 'between')) {
      i++;
      const lo = int();
      if (!isWord(peek(), 'and')) fail("'and' expected");
      i++;
      r = normalise([[lo, int()]]);
    } else {
      if (negate) fail("'in' or 'between' expected after 'not'");
      const op = ts[i++];
      if (op?.kind !== 'op') fail('a comparison (=, !=, <, <=, >, >=), in or between expected');
      const v = int();
      r = (
        {
          '=': [[v, v]],
          '==': [[v, v]],
          '!=': complement([[v, v]]),
          '<>': complement([[v, v]]),
          '<': v === I64_MIN ? [] : [[I64_MIN, v - 1n]],
          '<=': [[I64_MIN, v]],
          '>': v === I64_MAX ? [] : [[v + 1n, I64_MAX]],
          '>=': [[v, I64_MAX]],
        } as Record<string, Ranges>
      )[op!.text]!;
    }
    return negate ? complement(r) : r;
  };
  if (!ts.length) fail('an empty expression');
  const r = disjunction();
  if (i < ts.length) fail(`'${ts[i]!.text}' unexpected`);
  return BigInt64Array.from(r.flat());
}

/** An allow-list file: one unsigned 64-bit id per line; blank lines and `#` comments skipped. */
export async function readAllowList(path: string): Promise<BigUint64Array> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw badInput('ERR_RECALL_INPUT', `${path}: cannot read the --filter file (${e.code ?? e.message})`, {
      file: path,
      fix: 'pass a file with one id per line',
    });
  });
  const ids: bigint[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/#.*/, '').trim();
    if (!line) continue;
    const id = parseU64Line(line);
    if (id === null)
      throw badInput('ERR_RECALL_BAD_FILTER', `${path}: line ${n + 1}: "${line.slice(0, 40)}" is not an id (an unsigned 64-bit integer)`, {
        file: path,
        row: n,
        fix: 'one decimal id per line (blank lines and # comments are skipped)',
      });
    ids.push(id);
  }
  return BigUint64Array.from(ids);
}

function parseU64Line(s: string): bigint | null {
  if (!/^\d{1,20}$/.test(s)) return null;
  const v = BigInt(s);
  return v < 2n ** 64n ? v : null;
}
