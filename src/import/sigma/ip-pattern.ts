/**
 * The strings `in [ip(...)]` reads as an address (src/evaluator/operators.ts
 * `asIp`, which is `parseIp` without a `/prefix`), as one regular expression,
 * for the guard in front of a converted `cidr` test.
 *
 * `F in [ip("10.0.0.0/8")]` is an evaluation error when F is a string that
 * is not an address, and an error spoils the whole condition: `selection and
 * not filter` with `filter: dst_ip|cidr: [...]` would never fire on a proxy
 * event whose dst_ip is `-` or a host name. Sigma answers false there. So
 * the test runs only on a string this pattern accepts, which must be exactly
 * what the evaluator parses: a looser pattern lets the error back in, a
 * stricter one misses addresses in the range (test/import/sigma/ip-pattern.test.ts
 * compares the two).
 *
 * IPv4: four decimal octets 0-255 without leading zeros. IPv6: eight groups
 * of 1-4 hex digits, or fewer around one `::`, the last two groups possibly
 * written as IPv4; no zone id, no `/prefix`.
 */

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const V4 = `${OCTET}(?:\\.${OCTET}){3}`;
const H = "[0-9a-fA-F]{1,4}";

/** `n` groups, each followed by `:` (`(?:H:){n}`), or nothing. */
function groups(n: number): string {
  return n === 0 ? "" : n === 1 ? `${H}:` : `(?:${H}:){${n}}`;
}

/** `at most r` 16-bit groups after `::` (an IPv4 tail counts as two). */
function tail(r: number): string {
  const alts = [""];
  if (r >= 1) alts.push(`(?:${H}:){0,${r - 1}}${H}`);
  if (r >= 2) alts.push(`(?:${H}:){0,${r - 2}}${V4}`);
  return `(?:${alts.join("|")})`;
}

function v6(): string {
  const alts = [`${groups(7)}${H}`, `${groups(6)}${V4}`];
  // h groups before `::`, at most 7 - h after it.
  for (let h = 0; h <= 7; h++) alts.push(`${h === 0 ? "" : `${groups(h - 1)}${H}`}::${tail(7 - h)}`);
  return `(?:${alts.join("|")})`;
}

/** Anchored; for `matches` (ECMAScript, `u` flag). */
export const IP_TEXT_PATTERN = `^(?:${V4}|${v6()})$`;
