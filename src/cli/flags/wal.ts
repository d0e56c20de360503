/** Flags shared by `recall query x2i | vector | inverted`: reading the WAL tail and older views. */
import { Flags } from '@oclif/core';
import { requirePath } from '../../core/io/paths.js';

export const walQueryFlags = {
  wal: Flags.string({
    description: "also read this WAL: records after the version's dump seq win over the index (deletes honoured)",
    parse: async (input) => requirePath(input, 'folder', '--wal'),
  }),
  'as-of': Flags.integer({
    description: 'a consistent older view: the newest version at or before this seq, plus WAL records up to it',
    min: 0,
  }),
  'skip-corrupt': Flags.boolean({ description: 'skip corrupt WAL records (counted) instead of stopping' }),
};

/** The notices a query or dump prints on stderr: a torn tail, and records quarantined (not applied). */
export function warnTorn(
  wal:
    | { dir?: string; torn: { segment: string; message: string } | null; quarantined?: { seq: number; reason: string }[] }
    | null
    | undefined,
): void {
  if (wal?.torn) process.stderr.write(`recall: ${wal.torn.segment}: ${wal.torn.message}\n`);
  for (const q of wal?.quarantined ?? []) {
    process.stderr.write(
      `recall: ${wal?.dir ?? 'WAL'}: record seq ${q.seq} quarantined (not applied): ${q.reason}; remove it with \`recall wal drop --seq ${q.seq}\`\n`,
    );
  }
}
