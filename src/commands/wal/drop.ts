import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { requirePath } from '../../core/io/paths.js';

interface DropResult {
  wal: string;
  seq: number;
  segment: string;
  /** The record's op before it was dropped. */
  op: number;
}

export default class WalDrop extends RecallCommand<DropResult> {
  static override summary = 'Take one record out of a write-ahead log (e.g. one that replay quarantines).';
  static override description =
    `The record keeps its seq and bytes, marked dropped (its op byte gets the 0x80 bit, its CRC is recomputed): every reader skips it and seqs stay continuous. For a record that cannot apply to its index (a vector of another dimension, a text field the index does not have), which queries and dumps quarantine and \`recall wal inspect --index\` lists. The segment is rewritten to a temp name and renamed into place under the writer lock.`;
  static override examples = ['<%= config.bin %> wal drop --wal out/wal --seq 1207'];
  static override flags = {
    wal: Flags.string({ description: 'WAL folder', required: true }),
    seq: Flags.integer({ description: 'the seq of the record to drop', required: true, min: 1 }),
  };

  async run(): Promise<DropResult> {
    const { flags } = await this.parse(WalDrop);
    await requirePath(flags.wal, 'folder', '--wal');
    const { loadNative } = await import('../../core/native.js');
    const r = loadNative().walDrop(flags.wal, flags.seq);
    this.say(`record seq ${flags.seq} dropped from ${r.segment}`);
    return { wal: flags.wal, seq: flags.seq, ...r };
  }
}
