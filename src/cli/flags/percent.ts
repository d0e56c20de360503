/** Flags that take a share: `5%` or `0.05`. */
import { usage } from '../../core/errors.js';

/** A non-negative share written `5%` or `0.05` (`recall bench --max-regression`). */
export function parseShare(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(value.trim());
  if (!m) throw usage('ERR_RECALL_USAGE', `--${flag} ${value} is not a share`, { fix: 'write it like 5% or 0.05' });
  return Number(m[1]) / (m[2] ? 100 : 1);
}

/** A number at least `min`, a trailing `%` dividing it by 100 (`recall profile diff` thresholds); undefined stays undefined. */
export function parseNumberOrPercent(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const pct = value.endsWith('%');
  const n = Number(pct ? value.slice(0, -1) : value) / (pct ? 100 : 1);
  if (!Number.isFinite(n) || n < min)
    throw usage('ERR_RECALL_FLAG', `--${flag} ${value} is not a number >= ${min}`, { fix: `pass e.g. --${flag} 1` });
  return n;
}
