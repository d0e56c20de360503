/**
 * Figures in `--json` outputs (docs/json.md): durations are milliseconds named `...Ms`, rounded to
 * microseconds; rates and ratios keep a fixed number of significant digits, so subtraction noise
 * (0.00031338800000002554) never reaches a user.
 */

/** Seconds -> milliseconds, rounded to 3 decimals (one microsecond). */
export function ms(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/** Milliseconds rounded to 3 decimals. */
export function roundMs(millis: number): number {
  return Math.round(millis * 1e3) / 1e3;
}

/** A measured figure rounded to `digits` significant digits. */
export function sig(x: number, digits = 6): number {
  return Number.isFinite(x) && x !== 0 ? +x.toPrecision(digits) : x;
}
