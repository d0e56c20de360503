// recall x2i stream from Kafka: a mock cluster inside librdkafka (rdkafka_mock.h, built here with
// cc) speaks the wire protocol on 127.0.0.1; kafkajs produces DuckDB-written interactions to it;
// the stream, killed with -9 mid-topic and restarted, leaves the lists of the batch build over all
// of them, and the group's committed offsets never run ahead of what the WAL holds.
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadNative } from '../dist/core/native.js';
import { recall, scratchDir } from './helpers/cli.mjs';
import { assertSameLists, build, listsOf, writeInteractions } from './helpers/x2i-stream.mjs';

const { Kafka, logLevel } = createRequire(import.meta.url)('kafkajs');
const dir = scratchDir('x2istream-kafka');
let mock;
let bootstrap;

const MOCK_C = `
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) { fprintf(stderr, "%s\\n", err); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (!mc || rd_kafka_mock_topic_create(mc, argv[1], atoi(argv[2]), 1)) return 1;
  printf("%s\\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {}  /* lives until the test closes its stdin */
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
`;

before(async () => {
  writeFileSync(join(dir, 'mock.c'), MOCK_C);
  execFileSync('cc', ['-O1', '-o', join(dir, 'mock'), join(dir, 'mock.c'), '-lrdkafka']);
  mock = spawn(join(dir, 'mock'), ['events', '3'], { stdio: ['pipe', 'pipe', 'ignore'] });
  bootstrap = await new Promise((r) => mock.stdout.once('data', (d) => r(String(d).trim())));
});
after(() => {
  mock?.stdin.end();
  rmSync(dir, { recursive: true, force: true });
});

/** The highest end offset per partition the WAL's records name (what the stream made durable). */
function walEnds(wal) {
  const s = loadNative().walScan(wal, {});
  const v = new DataView(s.payloads.buffer, s.payloads.byteOffset, s.payloads.byteLength);
  const ends = {};
  let start = 0;
  for (let r = 0; r < s.ops.length; r++) {
    const end = s.ends[r];
    const at = start + 12 + 12 * v.getUint32(start + 8, true);
    const tag = JSON.parse(new TextDecoder().decode(s.payloads.subarray(at + 4, end)));
    for (const [p, o] of Object.entries(tag.end.offsets)) ends[p] = Math.max(ends[p] ?? 0, Number(o));
    start = end;
  }
  return ends;
}

describe('x2i stream from Kafka', () => {
  it('kill -9 mid-topic and restart: the lists of the batch build; offsets committed after the WAL', async () => {
    const { paths, ids } = await writeInteractions(join(dir, 'in'), { seed: 0.44, files: 5, rows: 150 });
    await build(join(dir, 'full'), paths, 'cosine');
    await build(join(dir, 'base'), [paths[0]], 'cosine', { keepState: join(dir, 'state') });
    // produce B2..B5 (keyed by user, so a user's rows stay in order in one partition)
    const c = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (
      await c.runAndReadAll(
        `select user_id, item_id::varchar item_id, ts from read_parquet([${paths
          .slice(1)
          .map((p) => `'${p}'`)
          .join(',')}]) order by filename, file_row_number`,
      )
    ).getRowObjectsJson();
    c.closeSync();
    const kafka = new Kafka({ clientId: 'test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'events',
      messages: rows.map((r) => ({ key: r.user_id, value: JSON.stringify({ user_id: r.user_id, item_id: r.item_id, ts: Number(r.ts) }) })),
    });
    await producer.disconnect();
    const source = `kafka://${bootstrap}/events?group=recall-test`;
    const args = ['x2i', 'stream', '--index', join(dir, 'base'), '--wal', join(dir, 'wal'), '--state', join(dir, 'state')];
    args.push('--source', source, '--once', '--max-batch-rows', '20', '--json');
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () =>
      Object.fromEntries(
        ((await admin.fetchOffsets({ groupId: 'recall-test', topics: ['events'] }))[0]?.partitions ?? []).map((p) => [
          String(p.partition),
          Number(p.offset),
        ]),
      );
    // killed once the first records are durable
    const killed = await recall(args, {
      onSpawn: (child) => {
        child.stdin.end();
        const t = setInterval(() => {
          try {
            if (loadNative().walScan(join(dir, 'wal'), {}).ops.length > 40) {
              clearInterval(t);
              child.kill('SIGKILL');
            }
          } catch {}
        }, 20);
        child.on('close', () => clearInterval(t));
      },
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const ends = walEnds(join(dir, 'wal'));
    for (const [p, o] of Object.entries(await committed()))
      if (o >= 0) assert.ok(o <= (ends[p] ?? 0), `partition ${p}: committed ${o}, WAL ${ends[p]}`);
    const r = await recall(args);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.lag.messages, 0);
    assert.ok(out.totals.rows < rows.length, 'the restart resumed mid-topic');
    const marks = Object.fromEntries((await admin.fetchTopicOffsets('events')).map((m) => [String(m.partition), Number(m.high)]));
    assert.deepEqual(await committed(), marks, 'every offset committed at the end');
    await admin.disconnect();
    assertSameLists(await listsOf(join(dir, 'base'), ids, join(dir, 'wal')), await listsOf(join(dir, 'full'), ids), 'Kafka after a kill');
  });
});
