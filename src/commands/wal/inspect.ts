import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { ExitCode } from '../../core/errors.js';
import type { WalInspection } from '../../core/wal/read.js';

export default class WalInspect extends RecallCommand<WalInspection> {
  static override summary = 'Show a write-ahead log: segments, seq ranges, records per op, torn tail and corrupt records.';
  static override description =
    `Reads every segment with recall's TypeScript reader (independent of the native one) and checks every record's length, CRC-32C and seq order. A torn tail (a write that did not finish, at the end of the newest segment) is reported and is not an error; a corrupt record anywhere else makes the exit code 3 (a dump would stop there unless --skip-corrupt).`;
  static override examples = ['<%= config.bin %> wal inspect --wal out/wal', '<%= config.bin %> wal inspect --wal out/wal --json'];
  static override flags = {
    wal: Flags.string({ description: 'WAL folder', required: true }),
  };

  async run(): Promise<WalInspection> {
    const { flags } = await this.parse(WalInspect);
    const { inspectWalFolder } = await import('../../core/wal/read.js');
    const r = await inspectWalFolder(flags.wal);
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
    this.say(
      `${r.records} record(s) in ${r.segments.length} segment(s), last seq ${r.lastSeq}${r.torn ? ', torn tail ignored' : ''}${r.corrupt ? `, ${r.corrupt} CORRUPT record(s)` : ''}`,
    );
    if (r.corrupt) this.exitCode = ExitCode.BadInput;
    return r;
  }
}
