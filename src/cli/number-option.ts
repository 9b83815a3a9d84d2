/**
 * Whole numbers given on the command line (`serve --port`, `audit
 * --max-details`, `encrypt --chunk-size`): plain decimal digits only.
 * Number() would take "" and " " as 0, "0x10" as 16, "1e3" as 1000 and
 * "1.5" as a fraction, so a mistyped value became another one silently.
 */
import { CliError } from "./context.js";

/** `raw` as a whole number from `min` to `max`; a CliError naming `flag` otherwise. */
export function parseWholeNumberOption(flag: string, raw: string, min: number, max: number): number {
  const n = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw new CliError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}
