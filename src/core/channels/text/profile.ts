/**
 * The text channel for `recall dqc`: per shard file the document, deleted-document and vocabulary
 * counts, and the mean length of each field (tokens per document).
 */
import { loadNative } from '../../native.js';
import { emptyShardProfile, type ProfileOptions, type ShardProfile } from '../driver.js';

export async function profileText(files: string[], _o: ProfileOptions): Promise<ShardProfile[]> {
  const native = loadNative();
  return files.map((file, shard) => {
    const info = native.textInfo(native.textOpen(file));
    const counts: Record<string, number> = { docs: info.docs, deleted: info.deleted, terms: info.terms };
    for (const f of info.fields) counts[`tokensPerDoc.${f.name}`] = info.docs ? Math.round((f.totalTokens / info.docs) * 1000) / 1000 : 0;
    return { ...emptyShardProfile(shard, file, counts), vocab: info.terms };
  });
}
