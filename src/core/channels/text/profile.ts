/**
 * The text channel for `recall dqc`: per shard file the document, deleted-document and vocabulary
 * counts, the mean length of each field (tokens per document), and each field's top terms by
 * document frequency.
 */
import { loadNative } from '../../native.js';
import { emptyShardProfile, type ProfileOptions, type ShardProfile } from '../driver.js';

/** Top terms per field: enough that a few stop words do not make the whole list. */
export const TOP_TERMS = 100;

export async function profileText(files: string[], _o: ProfileOptions): Promise<ShardProfile[]> {
  const native = loadNative();
  return files.map((file, shard) => {
    const handle = native.textOpen(file);
    const info = native.textInfo(handle);
    const counts: Record<string, number> = { docs: info.docs, deleted: info.deleted, terms: info.terms };
    for (const f of info.fields) counts[`tokensPerDoc.${f.name}`] = info.docs ? Math.round((f.totalTokens / info.docs) * 1000) / 1000 : 0;
    const topTerms = native.textTopTerms(handle, TOP_TERMS).map((f) => ({ ...f, docs: info.docs }));
    return { ...emptyShardProfile(shard, file, counts), vocab: info.terms, topTerms };
  });
}
