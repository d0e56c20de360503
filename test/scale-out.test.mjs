// Scale-out as a Job scheduler runs it: shard jobs that run twice at the same time, that are killed
// (SIGKILL) at random moments and run again, that finish in any order, and publish steps that run
// early, twice, or while a late duplicate still writes. Whatever the schedule, the published
// versions are byte-identical to a one-process build of the same config.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recall, recallWarm, root, scratchDir } from './helpers/cli.mjs';
import { cases } from './helpers/scale.mjs';

const SHARDS = 3;
const SCHEDULES = Number(process.env.RECALL_SCALE_OUT_SCHEDULES ?? cases(2, 40));
const dir = scratchDir('scale-out');
after(() => rmSync(dir, { recursive: true, force: true }));

/** The config every run shares (versions record its path); each run has its own `--out`. */
function config(name) {
  const fixtures = join(root, 'fixtures');
  const c = JSON.parse(readFileSync(join(fixtures, 'recall.config.json'), 'utf8'));
  delete c.$schema;
  c.shards = SHARDS;
  c.sources = Object.fromEntries(Object.entries(c.sources).map(([k, s]) => [k, { ...s, inputs: s.inputs.map((p) => join(fixtures, p)) }]));
  c.out = join(dir, 'default-out');
  const file = join(dir, 'recall.config.json');
  if (!existsSync(file)) writeFileSync(file, JSON.stringify(c));
  return { file, out: join(dir, `${name}-out`) };
}

/** The published versions (every file under a channel's version folders and CURRENT). */
function versions(out) {
  const files = {};
  for (const ch of readdirSync(out)) {
    if (ch === 'shards') continue;
    for (const e of readdirSync(join(out, ch), { withFileTypes: true })) {
      if (e.name === 'CURRENT') files[`${ch}/CURRENT`] = readFileSync(join(out, ch, e.name));
      if (e.isDirectory() && /^v\d{8}$/.test(e.name)) {
        for (const f of readdirSync(join(out, ch, e.name))) files[`${ch}/${e.name}/${f}`] = readFileSync(join(out, ch, e.name, f));
      }
    }
  }
  return files;
}

/** A seeded generator (mulberry32), so a failing schedule can be replayed from its seed. */
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

/** One `--shard K` attempt; killed with SIGKILL after `killAfterMs` when given. */
function shardJob({ file, out }, k, killAfterMs) {
  let timer;
  return recall(['build', '--config', file, '--out', out, '--shard', String(k), '--json'], {
    onSpawn: (child) => {
      child.stdin.end();
      if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    },
  }).finally(() => clearTimeout(timer));
}

describe('scale-out under a scheduler: duplicates, kills, any order', () => {
  let reference;
  let prepared;

  before(async () => {
    const one = config('one-process');
    const r = await recallWarm(['build', '--config', one.file, '--out', one.out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    reference = versions(one.out);
    // the sources are sharded once and copied into every schedule's folder (reused: same inputs)
    prepared = join(one.out, 'shards');
  });

  it('--plan lists every part a scheduler has to run, with its inputs and outputs', async () => {
    const c = config('plan');
    const r = await recallWarm(['build', '--config', c.file, '--plan', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.shards, SHARDS);
    const parts = plan.parts.map((p) => `${p.channel}/${p.shard}`).sort();
    assert.deepEqual(parts, ['text/0', 'text/1', 'text/2', 'vector/0', 'x2i/0', 'x2i/1', 'x2i/2']);
    for (const p of plan.parts) {
      assert.deepEqual(p.command, ['recall', 'build', '--config', c.file, '--shard', String(p.shard)]);
      if (p.channel !== 'vector')
        assert.equal(
          p.inputs[0],
          join(dir, 'default-out', 'shards', p.channel === 'x2i' ? 'lists' : 'dictionary', `shard-0000${p.shard}-of-0000${SHARDS}.parquet`),
        );
      assert.ok(
        p.inputs.length > 0 && p.output.endsWith(p.channel === 'text' ? '.rti' : p.channel === 'x2i' ? '.rx2i' : '.rvec'),
        JSON.stringify(p),
      );
    }
    assert.deepEqual(
      plan.steps.map((s) => s.step),
      ['prepare', 'shard', 'publish'],
    );
  });

  it(`${SCHEDULES} random schedules publish versions byte-identical to a one-process build`, { timeout: 600_000 }, async () => {
    const log = [];
    const schedule = async (s) => {
      const rand = rng(s * 7919);
      const c = config(`schedule-${s}`);
      cpSync(prepared, join(c.out, 'shards'), { recursive: true });
      const events = [];
      const order = [...Array(SHARDS).keys()].sort(() => rand() - 0.5);
      // the last shard in the order is held back so an early publish finds it missing
      const early = rand() < 0.5;
      for (const k of order.slice(0, -1)) await runShard(c, k, rand, events);
      if (early) {
        const r = await recall(['build', '--config', c.file, '--out', c.out, '--publish', '--json']);
        assert.equal(r.code, 2, `schedule ${s}: an early publish must refuse\n${r.stderr}`);
        const held = `shard-${String(order.at(-1)).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}`;
        assert.match(r.stdout + r.stderr, new RegExp(held), `schedule ${s}: the refusal names the missing part`);
        assert.equal(existsSync(join(c.out, 'x2i', 'CURRENT')), false, `schedule ${s}: nothing published early`);
        events.push('early publish refused');
      }
      await runShard(c, order.at(-1), rand, events);
      // publish, sometimes with a late duplicate of a finished shard still writing
      const late = rand() < 0.4 ? shardJob(c, order[0]) : null;
      const pub = await recall(['build', '--config', c.file, '--out', c.out, '--publish', '--json']);
      assert.equal(pub.code, 0, `schedule ${s} (${events.join(', ')}): ${pub.stderr}`);
      if (late) {
        const l = await late;
        assert.equal(l.code, 0, `schedule ${s}: a late duplicate builds or finds the build published: ${l.stdout}${l.stderr}`);
        events.push(`late duplicate of ${order[0]} (exit ${l.code})`);
      }
      if (rand() < 0.4) {
        const again = await recall(['build', '--config', c.file, '--out', c.out, '--publish', '--json']);
        assert.equal(again.code, 0, `schedule ${s}: a second publish of the same parts is a no-op: ${again.stderr}`);
        assert.deepEqual(
          JSON.parse(again.stdout).channels.map((x) => x.version),
          [1, 1, 1],
        );
        events.push('publish twice');
      }
      const got = versions(c.out);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(reference).sort(), `schedule ${s} (${events.join(', ')})`);
      for (const [f, bytes] of Object.entries(reference))
        assert.ok(bytes.equals(got[f]), `schedule ${s} (${events.join(', ')}): ${f} differs`);
      const v = await recallWarm(['verify', c.out, '--json']);
      assert.equal(v.code, 0, `schedule ${s}: verify\n${v.stdout}${v.stderr}`);
      log.push(`${s}: ${events.join(', ')}`);
      rmSync(c.out, { recursive: true, force: true });
    };
    // two schedules at a time (separate output folders), as two Jobs would share a cluster
    for (let s = 1; s <= SCHEDULES; s += 2) await Promise.all([schedule(s), ...(s + 1 <= SCHEDULES ? [schedule(s + 1)] : [])]);
    // the seeds are fixed, so the schedules cover every kind of event at any size
    for (const event of ['killed', 'twice at once', 'early publish refused', 'late duplicate', 'publish twice'])
      assert.ok(
        log.some((l) => l.includes(event)),
        `no schedule had "${event}":\n${log.join('\n')}`,
      );
  });
});

/** Shard K as a scheduler might run it: killed attempts, a duplicate at the same time, then done. */
async function runShard(c, k, rand, events) {
  const kills = rand() < 0.5 ? 1 : 0;
  for (let i = 0; i < kills; i++) {
    const ms = 100 + Math.floor(rand() * 900);
    const r = await shardJob(c, k, ms);
    events.push(r.signal === 'SIGKILL' ? `shard ${k} killed at ${ms} ms` : `shard ${k} finished before its kill`);
  }
  if (rand() < 0.5) {
    const both = await Promise.all([shardJob(c, k), shardJob(c, k)]);
    for (const r of both) assert.equal(r.code, 0, `shard ${k} duplicate: exit ${r.code}, signal ${r.signal}: ${r.stderr}`);
    events.push(`shard ${k} twice at once`);
  } else {
    const r = await shardJob(c, k);
    assert.equal(r.code, 0, `shard ${k}: exit ${r.code}, signal ${r.signal}: ${r.stderr}`);
    events.push(`shard ${k}`);
  }
}
