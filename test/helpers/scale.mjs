// How big the randomised tests run. The default run keeps `npm test` within its time budget on a
// two-core machine; `npm run test:full` (RECALL_TEST_FULL=1) runs every randomised schedule, fault
// and model test at its full size. The assertions are the same at both sizes, only the number of
// random cases changes.
import { availableParallelism } from 'node:os';

export const FULL = process.env.RECALL_TEST_FULL === '1';

/** The number of random cases: `quick` by default, `full` under `npm run test:full`. */
export function cases(quick, full) {
  return FULL ? full : quick;
}

/**
 * Runs `fn` over `items`, at most `limit` at a time, and resolves with the results in order. Most
 * tests spend their time waiting on a child process, so two at a time uses both cores of a small
 * machine while the test runner itself runs one file at a time.
 */
export async function mapConcurrent(items, fn, limit = Math.min(2, availableParallelism())) {
  const results = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
