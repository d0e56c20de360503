// SIGINT and SIGTERM at random moments (a seeded schedule, start-up included) of the commands that
// write: every run ends with 130 / 143 (or 0 when it finished first), promptly, never by a signal's
// default action (unless Node was tearing down after the command printed its result) or an abort, and leaves no temp file, staging folder or lock behind. Moments count
// from Node's first line of JavaScript (a preload prints a mark) plus LOAD_MS, the time Node takes to
// read bin/run.js, whose first statements install the listeners: before that nothing can handle a
// signal, nothing has been written, and a shell reports the same 130 / 143 for the default action.
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mapConcurrent } from './helpers/scale.mjs';
import { recall, root, scratchDir } from './helpers/cli.mjs';

const SEED = Number(process.env.RECALL_SIGNAL_SEED ?? 18);
const dir = scratchDir('signals');
after(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = join(root, 'fixtures', 'parquet');

/** mulberry32: a failing schedule replays from its seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hidden names (temp files, staging folders, locks) anywhere under `d`. */
function leftovers(d, out = []) {
  if (!existsSync(d)) return out;
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name.includes('.tmp-')) out.push(join(d, e.name));
    if (e.isDirectory()) leftovers(join(d, e.name), out);
  }
  return out;
}

const MARK = '[js started]';
const LOAD_MS = 15;
const FINISHING_MS = 150;
const markFirstLine = ['--import', `data:text/javascript,process.stderr.write(${JSON.stringify(`${MARK}\n`)})`];

/**
 * Run `recall args`, send `sig` `ms` after its first line of JavaScript ran;
 * {code, signal, stderr, lateMs: how long it lived after the signal (0: not sent, it ended first)}.
 */
function signalAfter(args, sig, ms) {
  let sentAt = 0;
  return recall(args, {
    nodeArgs: markFirstLine,
    onSpawn: (child) => {
      child.stdin.end();
      let t;
      const onData = (d) => {
        if (!String(d).includes(MARK)) return;
        child.stderr.off('data', onData);
        t = setTimeout(() => {
          sentAt = Date.now();
          child.kill(sig);
        }, LOAD_MS + ms);
      };
      child.stderr.on('data', onData);
      child.on('close', () => clearTimeout(t));
    },
  }).then((r) => ({ ...r, lateMs: sentAt ? Date.now() - sentAt : 0 }));
}

const config = join(dir, 'recall.config.json');
const index = join(dir, 'x2i');
const wal = join(dir, 'wal');
const updates = join(dir, 'updates.jsonl');

before(async () => {
  writeFileSync(
    config,
    JSON.stringify({
      out: join(dir, 'service'),
      shards: 2,
      sources: {
        lists: { inputs: [join(fixtures, 'x2i-lists.parquet')], key: 'item_id' },
        embeddings: { inputs: [join(fixtures, 'embeddings.parquet')], key: 'item_id' },
        dictionary: { inputs: [join(fixtures, 'wordnet-3000.parquet')], key: 'id' },
      },
      channels: [
        { name: 'x2i', kind: 'x2i', source: 'lists', neighbors: 'neighbors', scores: 'scores', topK: 20 },
        { name: 'vector', kind: 'vector', source: 'embeddings', vector: 'embedding', type: 'hnsw', quant: 'int8', rerank: true },
        { name: 'text', kind: 'inverted', source: 'dictionary', text: ['headword', 'text'], pairs: 'cooc', pairMinDf: 50 },
      ],
    }),
  );
  const lines = [];
  for (let k = 0; k < 20000; k++) lines.push(JSON.stringify({ op: 'upsert', key: k, neighbors: [k + 1, k + 2], scores: [0.5, 0.25] }));
  writeFileSync(updates, `${lines.join('\n')}\n`);
  const b = await recall(['build', '--config', config, '--only', 'x2i', '--out', join(dir, 'base')]);
  assert.equal(b.code, 0, b.stderr);
  cpSync(join(dir, 'base', 'x2i'), index, { recursive: true });
  const a = await recall(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', updates]);
  assert.equal(a.code, 0, a.stderr);
});

describe('signals at random moments', () => {
  it('every command exits 130 / 143 promptly with its partial output removed', async () => {
    const next = rng(SEED);
    const commands = {
      'build --config': { args: ['build', '--config', config], upto: 5000, watch: join(dir, 'service') },
      shard: {
        args: ['shard', '-i', join(fixtures, 'x2i-lists.parquet'), '-k', 'item_id', '-n', '8', '-o', join(dir, 'shards'), '--overwrite'],
        upto: 1500,
        watch: join(dir, 'shards'),
      },
      dump: { args: ['dump', '--index', index, '--wal', wal, '--keep', '1'], upto: 1500, watch: index },
      'wal append': { args: ['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', updates], upto: 1500, watch: wal },
    };
    const schedule = [];
    for (const name of Object.keys(commands)) {
      // one moment in start-up (while oclif loads the command), the others anywhere
      schedule.push({ name, sig: next() < 0.5 ? 'SIGINT' : 'SIGTERM', ms: Math.floor(next() * 400) });
      for (let i = 0; i < (name === 'build --config' ? 2 : 1); i++) {
        schedule.push({ name, sig: next() < 0.5 ? 'SIGINT' : 'SIGTERM', ms: Math.floor(next() * commands[name].upto) });
      }
    }
    const problems = [];
    // two lanes at a time; the WAL's reader and writer share one lane, so no run sees another's leftovers
    const lanes = [
      ['build --config', 'shard'],
      ['dump', 'wal append'],
    ].map((names) => schedule.filter((s) => names.includes(s.name)));
    await mapConcurrent(lanes, async (lane) => {
      for (const s of lane) {
        const c = commands[s.name];
        const r = await signalAfter(c.args, s.sig, s.ms);
        const what = `seed ${SEED}: ${s.name}, ${s.sig} at ${s.ms} ms`;
        const want = s.sig === 'SIGINT' ? 130 : 143;
        // A run that was ending anyway (it finished before the signal, or within FINISHING_MS of it)
        // may exit 0, and may even die by the signal's default action: Node closes its signal
        // watchers while it tears down, after the command printed its result, and a shell reports
        // the same 130 / 143 for that.
        const ending = r.lateMs < FINISHING_MS && r.stdout.trim() !== '';
        if (r.signal !== null) {
          if (!(r.signal === s.sig && ending))
            problems.push(`${what}: killed by ${r.signal} (${r.stderr.split('\n').slice(-3).join(' | ')})`);
        } else if (r.code !== want && !(r.code === 0 && r.lateMs < FINISHING_MS))
          problems.push(`${what}: exit ${r.code}, wanted ${want}: ${r.stderr}`);
        if (r.lateMs > 6000) problems.push(`${what}: lived ${r.lateMs} ms after the signal`);
        const left = leftovers(c.watch);
        if (left.length) problems.push(`${what}: left ${left.join(', ')}`);
      }
    });
    assert.deepEqual(problems, []);
    // and the next runs succeed
    for (const name of ['build --config', 'dump']) {
      const r = await recall(commands[name].args);
      assert.equal(r.code, 0, `${name} after the interrupted runs: ${r.stderr}`);
    }
    const v = await recall(['verify', index]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});
