// `recall build --config`: the schema's messages (with JSON paths), a build of all three channels from the shipped
// fixtures (sources reused when unchanged), the scale-out contract (shards built by separate processes, then
// published, are byte-identical to a one-shot build) and Ctrl-C leaving no partial version.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { interruptWhen, recall, recallWarm, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('config');
after(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = join(root, 'fixtures');
const base = JSON.parse(readFileSync(join(fixtures, 'recall.config.json'), 'utf8'));

/** A config beside the fixtures (its paths are relative to its folder), with `edit` applied. */
function config(name, edit = (c) => c) {
  const c = edit(structuredClone(base));
  const file = join(dir, `${name}.json`);
  c.sources = Object.fromEntries(Object.entries(c.sources).map(([k, s]) => [k, { ...s, inputs: s.inputs.map((p) => join(fixtures, p)) }]));
  c.out = join(dir, `${name}-out`);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

async function run(args, code = 0) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every file under `d` (relative path -> bytes). */
function tree(d, prefix = '') {
  const out = {};
  for (const e of readdirSync(join(d, prefix), { withFileTypes: true })) {
    const rel = join(prefix, e.name);
    if (e.isDirectory()) Object.assign(out, tree(d, rel));
    else out[rel] = readFileSync(join(d, rel));
  }
  return out;
}

describe('build --config', { concurrency: 2 }, () => {
  it('the schema names the JSON path of a wrong type, an unknown channel kind, a missing key column', async () => {
    const cases = [
      [(c) => ((c.shards = 'two'), c), /\/shards: must be integer/],
      [(c) => ((c.channels[1].kind = 'graph'), c), /\/channels\/1\/kind: must be one of "x2i", "vector", "inverted"/],
      [(c) => (delete c.sources.lists.key, c), /\/sources\/lists: missing "key"/],
      [(c) => ((c.channels[0].topk = 3), c), /\/channels\/0: unknown property "topk"/],
      [(c) => ((c.channels[2].source = 'nope'), c), /\/channels\/2\/source: no source named "nope"/],
      [(c) => ((c.channels[2].weights = [1]), c), /\/channels\/2\/weights: 1 weights for 2 text columns/],
    ];
    for (const [edit, msg] of cases) {
      const r = await recallWarm(['build', '--config', config('bad', edit)]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /bad\.json/);
    }
    writeFileSync(join(dir, 'syntax.json'), '{"sources": ');
    const s = await recallWarm(['build', '--config', join(dir, 'syntax.json')]);
    assert.equal(s.code, 3);
    assert.match(s.stderr, /syntax\.json: not valid JSON/);
  });

  it('builds every channel, reuses unchanged shards, and answers queries', async () => {
    const file = config('all');
    const r = await run(['build', '--config', file]);
    assert.deepEqual(
      r.channels.map((c) => [c.channel, c.kind, c.version, c.files]),
      [
        ['x2i', 'x2i', 1, 2],
        ['vector', 'vector', 1, 1],
        ['text', 'inverted', 1, 2],
      ],
    );
    assert.deepEqual(
      r.sources.map((s) => [s.source, s.reused, s.rows]),
      [
        ['lists', false, 5000],
        ['dictionary', false, 3000],
      ],
    );
    const out = join(dir, 'all-out');
    assert.equal((await run(['verify', join(out, 'x2i')])).ok, true);
    const q = await run(['query', 'x2i', '--index', join(out, 'x2i'), '--keys', '1,2,3']);
    assert.equal(q.found, 3);
    assert.equal(q.shardCount, 2);
    const t = await run(['query', 'inverted', '--index', join(out, 'text'), '--q', 'acid', '--k', '3']);
    assert.equal(t.results[0].hits.length, 3);
    // unchanged inputs: the shards are reused; --only builds one channel
    const again = await run(['build', '--config', file, '--only', 'x2i']);
    assert.deepEqual(
      again.sources.map((s) => s.reused),
      [true],
    );
    assert.deepEqual(
      again.channels.map((c) => [c.channel, c.version]),
      [['x2i', 2]],
    );
    const only = await recallWarm(['build', '--config', file, '--only', 'nope']);
    assert.equal(only.code, 2);
    assert.match(only.stderr, /--only nope: no such channel/);
  });

  it('scale-out: --prepare, one process per --shard, --publish: byte-identical to a one-shot build', async () => {
    const file = config('scale', (c) => ((c.shards = 3), c));
    const out = join(dir, 'scale-out');
    await run(['build', '--config', file]);
    const oneShot = tree(out);
    rmSync(out, { recursive: true, force: true });
    await run(['build', '--config', file, '--prepare']);
    // --publish refuses while a part is missing
    await run(['build', '--config', file, '--shard', '2']);
    const early = await recallWarm(['build', '--config', file, '--publish']);
    assert.equal(early.code, 2, 'parts missing is a step run too early (usage), not bad data');
    assert.match(
      early.stderr,
      /parts missing, nothing published \(x2i: shard-00000-of-00003\.rx2i, shard-00001-of-00003\.rx2i, built-00000\.json, built-00001\.json; vector: shard-00000-of-00001\.rvec, built-00000\.json; text: /,
    );
    assert.equal(existsSync(join(out, 'x2i', 'CURRENT')), false);
    // the other shards as separate processes running side by side, as an Indexed Job's pods would
    const jobs = await Promise.all([0, 1].map((k) => recallWarm(['build', '--config', file, '--shard', String(k), '--json'])));
    for (const j of jobs) assert.equal(j.code, 0, j.stderr);
    const pub = await run(['build', '--config', file, '--publish']);
    assert.deepEqual(
      pub.channels.map((c) => c.version),
      [1, 1, 1],
    );
    const split = tree(out);
    const versions = (t) => Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith('shards')));
    assert.deepEqual(Object.keys(versions(split)).sort(), Object.keys(versions(oneShot)).sort());
    for (const [k, v] of Object.entries(versions(oneShot))) assert.ok(v.equals(split[k]), `${k} differs`);
    assert.ok(Object.keys(versions(oneShot)).some((k) => k.endsWith('.rx2i')));
  });

  it('Ctrl-C during the build leaves no version and no staging folder', async () => {
    const file = config('interrupt');
    const out = join(dir, 'interrupt-out');
    const state = { sent: false };
    const staging = () =>
      existsSync(out) &&
      ['x2i', 'vector', 'text'].some((ch) => existsSync(join(out, ch)) && readdirSync(join(out, ch)).some((n) => n.includes('.staging-')));
    const r = await recall(['build', '--config', file], { onSpawn: interruptWhen(staging, state) });
    assert.ok(state.sent, 'the interrupt was sent while a version was staged');
    assert.equal(r.code, 130, r.stderr);
    for (const ch of ['x2i', 'vector', 'text']) {
      const names = existsSync(join(out, ch)) ? readdirSync(join(out, ch)) : [];
      assert.deepEqual(
        names.filter((n) => n !== '.lock'),
        [],
        `${ch}: ${names}`,
      );
    }
    // and the next build goes through
    const ok = await run(['build', '--config', file]);
    assert.deepEqual(
      ok.channels.map((c) => c.version),
      [1, 1, 1],
    );
  });
});
