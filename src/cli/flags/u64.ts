/** An unsigned 64-bit integer flag (seeds): decimal digits below 2^64, as a bigint. */
import { usage } from '../../core/errors.js';

export function parseU64(flag: string, value: string): bigint {
  if (!/^\d+$/.test(value) || BigInt(value) >= 2n ** 64n)
    throw usage('ERR_RECALL_USAGE', `--${flag} ${value} is not an unsigned 64-bit integer`);
  return BigInt(value);
}
