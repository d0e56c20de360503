/** `recall profile diff --store`: both sides selected from the store, then the usual diff. */
import { usage } from '../../errors.js';
import type { DiffOptions } from '../diff.js';
import { diffPods, type DiffJobOutputs, type ReadJob } from '../run.js';
import { parseSelector, StoreReader } from './query.js';

export async function diffFromStore(
  store: string,
  where: string | undefined,
  base: string[],
  head: string[],
  options: DiffOptions,
  outputs: DiffJobOutputs,
  job: ReadJob,
) {
  const reader = await StoreReader.open(store);
  try {
    const w = where ? parseSelector(where, '--where') : {};
    const sides = await Promise.all(
      (['base', 'head'] as const).map(async (side) => {
        const sel = parseSelector((side === 'base' ? base : head).join(','), `--${side}`);
        const picked = reader.select(sel, w);
        if (!picked.length)
          throw usage(
            'ERR_RECALL_STORE_EMPTY_SELECTION',
            `--${side} '${Object.entries(sel)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}'${where ? ` --where '${where}'` : ''}: no profile in ${store} matches`,
            {
              fix: 'check the labels with `recall profile history` or the profiles table',
            },
          );
        job.signal?.throwIfAborted();
        return { sel, pods: await reader.pods(picked) };
      }),
    );
    const [b, h] = sides as [(typeof sides)[0], (typeof sides)[0]];
    const label = (s: Record<string, string>) =>
      Object.entries(s)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
    const opts: DiffOptions = {
      ...options,
      labels: {
        base: options.labels?.base === 'base' || !options.labels?.base ? label(b.sel) : options.labels.base,
        head: options.labels?.head === 'head' || !options.labels?.head ? label(h.sel) : options.labels.head,
      },
      meta: { base: { ...b.sel, ...options.meta?.base }, head: { ...h.sel, ...options.meta?.head } },
    };
    return await diffPods(b.pods, h.pods, opts, outputs);
  } finally {
    reader.dispose();
  }
}
