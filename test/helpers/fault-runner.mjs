// Child process of the fault harness (faults.mjs): for each case, copy one pristine channel folder,
// damage one file in it, run the query and `verify` as the commands do (same core functions, errors
// mapped to exit codes by the same toRecallError) and print one JSON line. Cases are deterministic
// in their seed. A hang or a crash here is seen by the parent, which restarts after the case.
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { reseal, sections } from './container-bytes.mjs';

const dist = new URL('../../dist/core/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const { queryX2i } = await load('channels/x2i/query.js');
const { queryVector } = await load('channels/vector/query.js');
const { queryText } = await load('channels/text/query.js');
const { verifyPath } = await load('pipeline/verify.js');
const { toRecallError } = await load('errors.js');
const versions = await load('index/versions.js');
// (a build from before manifest and CURRENT checksums has none of these: the harness still runs on it)
const manifestChecksum = versions.manifestChecksum ?? (() => undefined);
const parseCurrent = versions.parseCurrent ?? ((t) => (/^v\d{8}$/.test(t.trim()) ? { name: t.trim(), checksum: null } : null));
const currentLine = versions.currentLine ?? ((v) => `v${String(v).padStart(8, '0')}\n`);

const { spec, work, cases } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const CHANNEL = { x2i: 'x2i', vector: 'vector', text: 'text' };
const EXT = { x2i: '.rx2i', vector: '.rvec', text: '.rti' };

class Rng {
  constructor(seed) {
    this.s = BigInt(seed) | 1n;
  }
  below(n) {
    // xorshift64
    let s = this.s;
    s ^= (s << 13n) & 0xffffffffffffffffn;
    s ^= s >> 7n;
    s ^= (s << 17n) & 0xffffffffffffffffn;
    this.s = s;
    return Number(s % BigInt(Math.max(1, n)));
  }
  pick(a) {
    return a[this.below(a.length)];
  }
}

const silent = async (f) => {
  try {
    return { exit: 0, value: await f() };
  } catch (e) {
    const r = toRecallError(e);
    return { exit: r.exit, message: r.oneLine().slice(0, 300) };
  }
};

/** The answer part of a query result (no timings, no paths). */
async function answer(kind, index) {
  if (kind === 'x2i') {
    const r = await queryX2i(index, spec.keys.map(BigInt), 5);
    return r.results.map((a) => [a.key, a.found, a.deleted, a.items]);
  }
  if (kind === 'vector') {
    const r = await queryVector({ index, queries: spec.queries, vector: 'embedding', k: 5, rerank: 20 });
    return { ids: r.ids, distances: r.distances };
  }
  const r = await queryText({ index, queriesFile: spec.queriesFile, k: 5 });
  return r.results.map((q) => [q.query, q.hits, q.totalHits, q.error ?? null]);
}

const baselines = new Map();
async function baseline(kind, index) {
  const key = `${kind}\0${index}`;
  if (!baselines.has(key)) baselines.set(key, await silent(() => answer(kind, index)));
  return baselines.get(key);
}

const files = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();

function resealContainer(file, rng) {
  const b = readFileSync(file);
  const ss = sections(b).filter((s) => s.length > 0);
  const s = rng.pick(ss);
  const at = s.offset + rng.below(s.length);
  let what;
  const mode = rng.below(3);
  if (mode === 0) {
    const n = 1 + rng.below(4);
    for (let j = 0; j < n && at + j < s.offset + s.length; j++) b[at + j] = rng.below(256);
    what = `${n} byte(s)`;
  } else if (mode === 1 && s.length >= 8) {
    const w = s.offset + Math.floor((at - s.offset) / 8) * 8;
    if (w + 8 <= s.offset + s.length) b.writeBigUInt64LE(BigInt(rng.below(2) ? rng.below(1 << 20) : rng.below(2 ** 31) * 2 ** 21), w);
    what = `word at ${w}`;
  } else {
    b[at] ^= 1 << rng.below(8);
    what = 'one bit';
  }
  reseal(b);
  writeFileSync(file, b);
  return `re-sealed ${what} in section kind ${s.kind} at ${at}`;
}

/** A re-sealed manifest edit (checksum recomputed, CURRENT updated to match): a writer bug. */
function resealManifest(file, chDir, rng) {
  const m = JSON.parse(readFileSync(file, 'utf8'));
  const idx = m.files.map((_, i) => i);
  const containers = idx.filter((i) => m.files[i].headerCrc32c !== undefined);
  const edits = [
    ['swap two files', containers.length >= 2],
    ['drop a file', m.files.length >= 1],
    ['bytes', m.files.length >= 1],
    ['headerCrc32c', containers.length >= 1],
    ['version', true],
    ['path', m.files.length >= 1],
  ].filter(([, ok]) => ok);
  const [what] = rng.pick(edits);
  if (what === 'swap two files') {
    const a = rng.pick(containers);
    const others = containers.filter((i) => i !== a);
    const c = rng.pick(others);
    [m.files[a].path, m.files[c].path] = [m.files[c].path, m.files[a].path];
  } else if (what === 'drop a file') m.files.splice(rng.below(m.files.length), 1);
  else if (what === 'bytes') m.files[rng.below(m.files.length)].bytes += 1 + rng.below(100);
  else if (what === 'headerCrc32c') m.files[rng.pick(containers)].headerCrc32c ^= 1 << rng.below(31);
  else if (what === 'version') m.version += 1;
  else m.files[rng.below(m.files.length)].path += '.x';
  m.checksum = manifestChecksum(m);
  writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
  const cur = join(chDir, 'CURRENT');
  const ptr = parseCurrent(readFileSync(cur, 'utf8'));
  if (ptr && join(chDir, ptr.name) === join(file, '..')) writeFileSync(cur, currentLine(Number(ptr.name.slice(1)), m));
  return `re-sealed manifest edit: ${what}`;
}

function flip(file, rng) {
  const b = readFileSync(file);
  const at = rng.below(b.length);
  const v = (b[at] + 1 + rng.below(255)) & 0xff;
  b[at] = v;
  writeFileSync(file, b);
  return `byte ${at} -> ${v}`;
}

function truncate(file, rng) {
  const n = statSync(file).size;
  const len = rng.below(n);
  truncateSync(file, len);
  return `truncated ${n} -> ${len}`;
}

/** Semantic equality of a damaged manifest or CURRENT with the original (a whitespace flip). */
function harmlessText(kind, before, after) {
  try {
    // a pointer cut to the name alone is the older form of the same pointer
    if (kind === 'CURRENT') {
      const [a, b] = [parseCurrent(before), parseCurrent(after)];
      return b !== null && a.name === b.name && (b.checksum === null || b.checksum === a.checksum);
    }
    return isDeepStrictEqual(JSON.parse(before), JSON.parse(after));
  } catch {
    return false;
  }
}

async function runCase(c) {
  const rng = new Rng(c.seed);
  const channel = CHANNEL[c.kind] ?? (c.kind === 'side' ? rng.pick(['vector', 'text']) : rng.pick(['x2i', 'vector', 'text']));
  const qkind = channel;
  const pristine = join(spec.service, channel);
  const dir = join(work, `case-${c.id}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(pristine, join(dir, channel), { recursive: true });
  const ch = join(dir, channel);
  const all = files(ch);
  let target;
  if (CHANNEL[c.kind]) target = rng.pick(all.filter((f) => f.endsWith(EXT[c.kind])));
  else if (c.kind === 'manifest') target = rng.pick(all.filter((f) => f.endsWith('manifest.json')));
  else if (c.kind === 'CURRENT') target = join(ch, 'CURRENT');
  else target = rng.pick(all.filter((f) => /deletes\.u64$|docs\.jsonl$|deletes\.json$/.test(f)));
  const before = readFileSync(target);
  let what;
  if (c.fault === 'flip') what = flip(target, rng);
  else if (c.fault === 'truncate') what = truncate(target, rng);
  else if (c.fault === 'swap') {
    const peers = all.filter((f) => f !== target && f.endsWith(EXT[c.kind]) && join(f, '..') === join(target, '..'));
    const other = peers.length ? rng.pick(peers) : null;
    if (other) {
      renameSync(target, `${target}.tmp`);
      renameSync(other, target);
      renameSync(`${target}.tmp`, other);
      what = `swapped with ${relative(ch, other)}`;
    } else what = flip(target, rng);
  } else if (c.kind === 'manifest') what = resealManifest(target, ch, rng);
  else what = resealContainer(target, rng);
  const after = readFileSync(target);
  const harmless =
    after.equals(before) ||
    (['manifest', 'CURRENT'].includes(c.kind) && harmlessText(c.kind, before.toString('latin1'), after.toString('latin1')));
  const out = { id: c.id, kind: c.kind, fault: c.fault, mode: c.mode, seed: c.seed, target: relative(dir, target), what, harmless };
  if (c.mode === 'lone') {
    const pristineFile = join(pristine, relative(ch, target));
    const base = await baseline(qkind, pristineFile);
    const got = await silent(() => answer(qkind, target));
    out.query = { exit: got.exit, same: got.exit === 0 && isDeepStrictEqual(got.value, base.value), message: got.message };
    out.verify = null;
  } else {
    const base = await baseline(qkind, pristine);
    const got = await silent(() => answer(qkind, ch));
    out.query = { exit: got.exit, same: got.exit === 0 && isDeepStrictEqual(got.value, base.value), message: got.message };
    const v = await silent(() => verifyPath(ch));
    out.verify = { exit: v.exit === 0 ? (v.value.ok ? 0 : 3) : v.exit, message: v.message ?? v.value?.firstProblem?.message };
  }
  rmSync(dir, { recursive: true, force: true });
  return out;
}

for (const c of cases) {
  const o = await runCase(c);
  process.stdout.write(`${JSON.stringify(o)}\n`);
}
