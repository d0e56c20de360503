/**
 * How the query commands open an index: through the library API (the same readers a service
 * uses), as one channel's reader, reopened when a dump pruned the version it was reading.
 */
import { type ChannelReaders, type OpenIndexOptions, openIndex } from '../api/index.js';
import { type ChannelKind, channelName } from '../core/channels/kinds.js';
import { driverFor } from '../core/channels/registry.js';
import { badInput } from '../core/errors.js';
import { retryOnNewCurrent } from '../core/index/resolve.js';

/**
 * Open `index`, hand its one `kind` reader to `use` (with the performance.now() at which opening
 * started), close it after. A version pruned under the
 * reader (CURRENT moved meanwhile) is opened again from the new CURRENT, and `use` runs again.
 */
export function withChannelReader<K extends ChannelKind, T>(
  index: string,
  kind: K,
  o: OpenIndexOptions,
  use: (reader: ChannelReaders[K], openedFrom: number) => Promise<T>,
): Promise<T> {
  return retryOnNewCurrent(index, async () => {
    const openedFrom = performance.now();
    const ix = await openIndex(index, o);
    try {
      const reader = ix[kind] as ChannelReaders[K] | undefined;
      const name = channelName(kind);
      if (!reader)
        throw badInput('ERR_RECALL_NOT_AN_INDEX', `${index}: holds no ${name} channel, or more than one`, {
          file: index,
          fix: `pass ${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name} channel folder, version folder or ${driverFor(kind).fileExt} file`,
        });
      return await use(reader, openedFrom);
    } finally {
      await ix.close();
    }
  });
}
