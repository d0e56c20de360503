import { Flags } from '@oclif/core';
import { RecallCommand } from '../cli/base-command.js';
import { MAX_SHARDS } from '../core/shard/manifest.js';
import type { ShardResult } from '../core/shard/shard.js';

export default class Shard extends RecallCommand<ShardResult> {
  static override summary = 'Split parquet into N shards by the routing hash of a key column, plus a manifest.';
  static override description =
    `Reads parquet as Spark, pyarrow, polars or DuckDB write it (any codec, v1/v2 pages, lists, nulls) and writes DIR/shard-00000-of-000NN.parquet ... and DIR/manifest.json. A row's shard is xxh64(key, seed 0) % N (see \`recall hash\`);
rows keep their input order inside a shard; the same input gives byte-identical shards and manifest.
Shards appear only when all are complete; Ctrl-C leaves nothing behind.`;
  static override examples = [
    '<%= config.bin %> shard --input events/ --key user_id --shards 16 --out shards/events',
    "<%= config.bin %> shard --input 'raw/*.parquet' --key item_id --shards 4 --out shards/items --columns item_id,title --compression snappy",
    '<%= config.bin %> shard --input a.parquet --input b.parquet --key user_id --shards 8 --out out --where "action = \'click\'" --drop-null-keys',
  ];
  static override flags = {
    input: Flags.string({ char: 'i', description: 'parquet file, folder or glob (repeatable)', required: true, multiple: true }),
    key: Flags.string({ char: 'k', description: 'key column (integer or string)', required: true }),
    shards: Flags.integer({ char: 'n', description: `number of shards (1..${MAX_SHARDS})`, required: true, min: 1, max: MAX_SHARDS }),
    out: Flags.string({ char: 'o', description: 'output folder', required: true }),
    columns: Flags.string({ description: 'columns to keep, comma separated (default: all)', delimiter: ',', multiple: true }),
    where: Flags.string({ description: 'keep only rows matching this SQL predicate (DuckDB syntax)' }),
    compression: Flags.option({
      options: ['zstd', 'snappy', 'gzip', 'none'] as const,
      description: 'codec of the shard files',
      default: 'zstd',
    })(),
    'drop-null-keys': Flags.boolean({ description: 'leave out rows whose key is null (default: refuse them)' }),
    threads: Flags.integer({
      description: 'parallel writers (lanes); the shard bytes depend on it, so it is fixed, not the core count',
      default: 2,
      min: 1,
      max: 64,
    }),
    'memory-limit': Flags.string({ description: "DuckDB's memory limit for the whole job, e.g. 2GB" }),
    overwrite: Flags.boolean({ description: 'replace a different shard set already in --out' }),
  };

  async run(): Promise<ShardResult> {
    const { flags } = await this.parse(Shard);
    const { shardParquet } = await import('../core/shard/shard.js');
    this.progress.start('sharding', 0, 'rows');
    const result = await shardParquet(
      {
        inputs: flags.input,
        key: flags.key,
        shards: flags.shards,
        out: flags.out,
        columns: flags.columns,
        where: flags.where,
        compression: flags.compression,
        dropNullKeys: flags['drop-null-keys'],
        threads: flags.threads,
        memoryLimit: flags['memory-limit'],
        overwrite: flags.overwrite,
        command: ['recall', 'shard', ...this.argv].join(' '),
      },
      {
        signal: this.signal,
        onProgress: (p) => this.progress.update(p.done, p.bytes, p.total),
      },
    );
    this.progress.stop();
    const m = result.manifest;
    this.summary(
      `${m.rows} rows from ${m.inputs.length} file(s) -> ${m.shardCount} shards in ${result.out} (${(result.elapsedMs / 1000).toFixed(1)} s, ${result.rowsPerSecond} rows/s)`,
    );
    if (m.droppedNullKeys) this.summary(`dropped ${m.droppedNullKeys} row(s) with a null key`);
    return result;
  }
}
