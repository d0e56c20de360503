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

/** The torn-tail notice a query prints on stderr. */
export function warnTorn(wal: { torn: { segment: string; message: string } | null } | null | undefined): void {
  if (wal?.torn) process.stderr.write(`recall: ${wal.torn.segment}: ${wal.torn.message}\n`);
}
