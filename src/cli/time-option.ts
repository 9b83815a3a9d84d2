/**
 * A time given on the command line (`audit --now`, `mesh plan --time`):
 * RFC 3339 with a `T`, seconds and an offset, read as strictly as the
 * policies read times, so February 30th or hour 24 is refused rather than
 * moved to another day (Date.parse takes 2026-02-30 for March 2nd).
 */
import { parseRfc3339 } from "../index.js";
import { CliError } from "./context.js";

const SHAPE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Epoch milliseconds of `raw`; a CliError naming `flag` when it is not such a time. */
export function parseTimeOption(flag: string, raw: string): number {
  const ms = SHAPE.test(raw) ? parseRfc3339(raw) : Number.NaN;
  if (!Number.isFinite(ms)) throw new CliError(`${flag} must be an RFC 3339 time such as 2026-01-01T00:00:00Z, got ${JSON.stringify(raw)}`);
  return ms;
}
