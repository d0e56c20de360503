import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { ExitCode } from '../../core/errors.js';
import type { WalInspection } from '../../core/wal/read.js';
import { requirePath } from '../../core/io/paths.js';

export default class WalInspect extends RecallCommand<WalInspection> {
  static override summary =
    'Show a write-ahead log: id, segments, seq ranges, records per op, torn tail, corrupt, dropped and inapplicable records.';
  static override description =
    `Reads every segment with recall's TypeScript reader (independent of the native one) and checks every record's length, CRC-32C and seq order. A torn tail (a write that did not finish, at the end of the newest segment) is reported and is not an error; a corrupt record anywhere else, or seqs missing between segments, makes the exit code 3 (a dump would stop there unless --skip-corrupt). Lists the records that cannot apply to their channel's index (checked against the WAL's bindings in wal.json and, with --index, that index), which replay quarantines and \`recall wal drop\` removes, and the records already dropped.`;
  static override examples = [
    '<%= config.bin %> wal inspect --wal out/wal',
    '<%= config.bin %> wal inspect --wal out/wal --index out/vector --json',
  ];
  static override flags = {
    wal: Flags.string({ description: 'WAL folder', required: true }),
    index: Flags.string({ description: 'also check every record against this index (vector dimension, text fields)' }),
  };

  async run(): Promise<WalInspection> {
    const { flags } = await this.parse(WalInspect);
    await requirePath(flags.wal, 'folder', '--wal');
    const { inspectWalFolder } = await import('../../core/wal/read.js');
    const r = await inspectWalFolder(flags.wal, { index: flags.index });
    this.say(`${flags.wal}: WAL id ${r.id ?? '(none: made before WAL ids; adopted on the next append)'}`);
    for (const s of r.segments) {
      const ops = Object.entries(s.ops)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      this.say(
        `${s.file}\t${s.bytes} bytes\t${s.records} records${s.records ? ` (seq ${s.minSeq}..${s.maxSeq})` : ''}${ops ? `\t${ops}` : ''}`,
      );
      if (s.torn) this.say(`  offset ${s.torn.offset}: ${s.torn.message}`);
      for (const c of s.corrupt) this.say(`  offset ${c.offset}: ${c.message}`);
    }
    for (const x of r.inapplicable) this.say(`  seq ${x.seq}: ${x.channel} record cannot apply: ${x.reason} (quarantined by replay)`);
    this.say(
      `${r.records} record(s) in ${r.segments.length} segment(s), last seq ${r.lastSeq}${r.torn ? ', torn tail ignored' : ''}${r.corrupt ? `, ${r.corrupt} CORRUPT record(s)` : ''}${r.dropped.length ? `, ${r.dropped.length} dropped` : ''}${r.inapplicable.length ? `, ${r.inapplicable.length} inapplicable (seq ${r.inapplicable.map((x) => x.seq).join(', ')})` : ''}`,
    );
    if (r.corrupt) this.exitCode = ExitCode.BadInput;
    return r;
  }
}
