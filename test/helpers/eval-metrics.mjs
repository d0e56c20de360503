// The metric functions of the library, and a fresh per-user table for a hand-computed case.
import { coverage, METRICS, scoreList } from '../../dist/api/index.js';

export { coverage, scoreList };
export const emptyUserMetricsForTest = (ks, users) => Object.fromEntries(METRICS.map((m) => [m, ks.map(() => new Float64Array(users))]));
