import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { loadNative } from '../../core/native.js';
import { requirePath } from '../../core/io/paths.js';

interface TruncateResult {
  wal: string;
  before: number;
  removed: string[];
}

export default class WalTruncate extends RecallCommand<TruncateResult> {
  static override summary = 'Remove WAL segments whose records all come before a seq (after a dump applied them).';
  static override description =
    `Whole segments only: a segment is removed when every record in it has seq < --before; the newest segment always stays, so seqs go on from where they were. Takes the writer lock. Pass the walSeq of the oldest version you keep (recall dump prints it), so every kept version can still be brought up to date.`;
  static override examples = ['<%= config.bin %> wal truncate --wal out/wal --before 120000'];
  static override flags = {
    wal: Flags.string({ description: 'WAL folder', required: true }),
    before: Flags.integer({ description: 'remove segments whose records all have a smaller seq', required: true, min: 1 }),
  };

  async run(): Promise<TruncateResult> {
    const { flags } = await this.parse(WalTruncate);
    await requirePath(flags.wal, 'folder', '--wal');
    const removed = loadNative().walTruncate(flags.wal, flags.before);
    this.summary(`${removed.length} segment(s) removed from ${flags.wal}`);
    return { wal: flags.wal, before: flags.before, removed };
  }
}
