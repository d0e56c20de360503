import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { kindOfName } from '../../core/channels/kinds.js';
import { usage } from '../../core/errors.js';
import { requireFiles } from '../../core/io/paths.js';
import type { AppendResult } from '../../core/wal/append.js';

export default class WalAppend extends RecallCommand<AppendResult> {
  static override summary = 'Append upserts and deletes to a write-ahead log, from JSON lines or parquet.';
  static override description = `Every record is checked first; a bad line (or row) stops with its number and nothing is appended.
JSON lines, one record per line:
  x2i       {"op":"upsert","key":K,"neighbors":[...],"scores":[...]}   {"op":"delete","key":K}
  vector    {"op":"upsert","id":K,"vector":[...]}                      {"op":"delete","id":K}
  inverted  {"op":"upsert","id":K,"fields":{"body":"..."}}             {"op":"delete","id":K}
Keys and ids beyond 2^53 are given as strings. Parquet (a .parquet file, folder or glob): the same columns (op optional, default upsert; inverted: every other text column is a field unless --text).
The WAL is a folder of segment files (rotated at --segment-bytes); one writer at a time. --fsync batch (default) makes each batch of records durable with one fsync, always after every record, off leaves it to the OS. A torn tail left by a crashed writer is cut off (and reported) before appending; damage anywhere else stops it (exit 3), so no acknowledged record is ever cut or its seq reused. The input is read twice, streaming (bounded memory at any size): every record is checked, then appended in batches. The WAL's wal.json holds its id and per channel what records must fit (the vector dimension of its first vector append; the text fields of the index given with --index); a record that does not fit stops the append. stdin is spooled to a temp file ($TMPDIR) between the passes.`;
  static override examples = [
    '<%= config.bin %> wal append --wal out/wal --channel x2i --input updates.jsonl',
    'cat deletes.jsonl | <%= config.bin %> wal append --wal out/wal --channel x2i --input -',
    '<%= config.bin %> wal append --wal out/wal --channel vector --input new-vectors.parquet --fsync always',
    '<%= config.bin %> wal append --wal out/wal --channel inverted --input docs.jsonl --index out/inverted',
  ];
  static override flags = {
    wal: Flags.string({ description: 'WAL folder (created if missing)', required: true }),
    channel: Flags.option({
      options: ['x2i', 'vector', 'inverted'] as const,
      description: 'which index the records update',
      required: true,
    })(),
    input: Flags.string({ char: 'i', description: 'JSON-lines file, - for stdin, or parquet file / folder / glob', required: true }),
    fsync: Flags.option({
      options: ['always', 'batch', 'off'] as const,
      description: 'durability: per record, per batch, or left to the OS',
      default: 'batch',
    })(),
    'segment-bytes': Flags.integer({ description: 'start a new segment file past this size', default: 64 << 20, min: 1 }),
    batch: Flags.integer({ description: 'records per append (one fsync each with --fsync batch)', default: 65536, min: 1 }),
    key: Flags.string({ description: 'parquet: x2i key column', default: 'key' }),
    neighbors: Flags.string({ description: 'parquet: x2i neighbors column', default: 'neighbors' }),
    scores: Flags.string({ description: 'parquet: x2i scores column', default: 'scores' }),
    id: Flags.string({ description: 'parquet: vector / inverted id column', default: 'id' }),
    vector: Flags.string({ description: 'parquet: vector column', default: 'vector' }),
    text: Flags.string({ description: 'parquet: inverted text columns, comma-separated (default: every other text column)' }),
    index: Flags.string({
      description: 'check records against this index (vector dimension, text fields) and bind the WAL to it',
    }),
  };

  async run(): Promise<AppendResult> {
    const { flags } = await this.parse(WalAppend);
    const { appendWal } = await import('../../core/wal/append.js');
    if (flags.text !== undefined && flags.channel !== 'inverted') throw usage('ERR_RECALL_USAGE', '--text is for --channel inverted');
    if (flags.input !== '-') requireFiles([flags.input]);
    this.progress.start('appending', 0, 'records');
    const r = await appendWal(
      {
        wal: flags.wal,
        channel: kindOfName(flags.channel),
        input: flags.input,
        fsync: flags.fsync,
        segmentBytes: flags['segment-bytes'],
        batch: flags.batch,
        index: flags.index,
        columns: {
          key: flags.key,
          neighbors: flags.neighbors,
          scores: flags.scores,
          id: flags.id,
          vector: flags.vector,
          text: flags.text?.split(','),
        },
      },
      { signal: this.signal, onBatch: (done, total) => this.progress.update(done, undefined, total) },
    );
    this.progress.stop();
    if (r.recovered) process.stderr.write(`recall: ${r.recovered.segment}: ${r.recovered.message}; cut off before appending\n`);
    this.summary(
      `${r.records} record(s) appended to ${r.wal} (seq ${r.firstSeq}..${r.lastSeq}: ${r.upserts} upserts, ${r.deletes} deletes, ${r.recordsPerSecond.toLocaleString('en-US')} records/s)`,
    );
    return r;
  }
}
