/**
 * Durations given on the command line (`detect --lateness`, `mesh verify
 * --handshake-within`): the policy language's form (`500ms`, `30s`, `5m`,
 * `1h30m`; units ms s m h d w). A value too large to count in milliseconds
 * exactly is refused: 10^400 hours became Infinity, which disabled the
 * lateness cut-off or the handshake check without a word.
 */
import { parseDuration } from "../index.js";
import { CliError } from "./context.js";

/** Milliseconds of `raw`; a CliError naming `flag` when it is not a duration, or is zero and `positive` is set. */
export function parseDurationOption(flag: string, raw: string, { positive }: { positive: boolean }): number {
  const ms = parseDuration(raw);
  if (ms === null || !Number.isSafeInteger(ms) || (positive && ms === 0)) {
    const what = positive ? "a duration above zero" : "a duration";
    throw new CliError(`${flag} must be ${what} such as 500ms, 30s, 5m or 1h30m (units ms s m h d w), got ${JSON.stringify(raw)}`);
  }
  return ms;
}
