/**
 * Options objects of the public API are checked for names they do not know.
 * TypeScript catches a misspelt option in an object literal, JavaScript and a
 * spread config do not: `loadPolicies(p, { riskStore })` used to build an
 * engine over a fresh, empty risk store, so `quarantined(principal.id)` read
 * false and a quarantined principal was allowed; `new MfaVerifier({
 * replayStore })` kept used codes per process only. An unknown name is a
 * TypeError when the object is made, never a silently weaker default.
 */
export function refuseUnknownOptions(what: string, options: unknown, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== "object") throw new TypeError(`${what}: options must be an object, found ${typeof options}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${what}: unknown option \`${key}\` (known: ${known.join(", ")})`);
  }
}
