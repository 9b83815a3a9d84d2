/**
 * A Sigma rule's `detection` section as one policy condition (Sigma rules
 * specification, "Detection" and "Condition"):
 *
 * - a search identifier holding a map is the AND of its fields; one holding
 *   a list of maps is the OR of them; a list of plain values (or one value)
 *   is a keyword search, OR of the values (a `'|all':` key makes it AND);
 * - the condition combines identifiers (condition.ts); a list of conditions
 *   is their OR.
 *
 * Only identifiers the condition uses are translated, so an unused one with
 * an unsupported modifier does not cost the rule.
 */
import { expandPattern, parseCondition, type CondNode } from "./condition.js";
import { and, not, or, type Cond } from "./expr.js";
import { fieldCondition, keywordCondition } from "./modifiers.js";
import { fail, isMap, Unconvertible } from "./model.js";
import type { AppliedLogsource } from "./pipeline.js";

/** Keys of `detection` that are not search identifiers. */
const RESERVED_KEYS = new Set(["condition", "timeframe"]);

function mapCondition(m: Record<string, unknown>, ls: AppliedLogsource): Cond {
  const entries = Object.entries(m);
  if (entries.length === 0) fail("a selection is an empty map");
  return and(
    entries.map(([key, value]) => {
      const [name, ...mods] = key.split("|");
      if (name === "") {
        // `'|all': [...]`: keywords with modifiers.
        return keywordCondition(ls.keywordField(), mods, Array.isArray(value) ? value : [value]);
      }
      return fieldCondition(ls.mapField(name!), mods, value, ls.mapField);
    }),
  );
}

function identifierCondition(name: string, value: unknown, ls: AppliedLogsource): Cond {
  try {
    if (isMap(value)) return mapCondition(value, ls);
    if (Array.isArray(value)) {
      if (value.length === 0) fail("it is an empty list");
      const maps = value.filter(isMap);
      const plain = value.filter((v) => !isMap(v));
      const parts = maps.map((m) => mapCondition(m, ls));
      if (plain.length > 0) parts.push(keywordCondition(ls.keywordField(), [], plain));
      return or(parts);
    }
    if (typeof value === "string" || typeof value === "number") return keywordCondition(ls.keywordField(), [], [value]);
    fail(`it is ${value === null ? "null" : typeof value}, not a map, list or value`);
  } catch (err) {
    if (err instanceof Unconvertible && !err.message.startsWith("search identifier")) {
      throw new Unconvertible(`search identifier \`${name}\`: ${err.message}`);
    }
    throw err;
  }
}

export function detectionCondition(detection: unknown, ls: AppliedLogsource): Cond {
  if (!isMap(detection)) fail("`detection` is not a map");
  const raw = detection["condition"];
  if (raw === undefined) fail("`detection` has no `condition`");
  const conditions = Array.isArray(raw) ? raw : [raw];
  if (conditions.length === 0 || conditions.some((c) => typeof c !== "string")) fail("`condition` is not a string or a list of strings");
  const identifiers = Object.keys(detection).filter((k) => !RESERVED_KEYS.has(k));
  const cache = new Map<string, Cond>();
  const byName = (name: string): Cond => {
    let c = cache.get(name);
    if (c === undefined) {
      if (!identifiers.includes(name)) fail(`the condition names \`${name}\`, which \`detection\` does not define`);
      c = identifierCondition(name, detection[name], ls);
      cache.set(name, c);
    }
    return c;
  };
  const walk = (n: CondNode): Cond => {
    switch (n.k) {
      case "id":
        return byName(n.name);
      case "not":
        return not(walk(n.item));
      case "and":
        return and(n.items.map(walk));
      case "or":
        return or(n.items.map(walk));
      case "of": {
        const names = expandPattern(n.pattern, identifiers);
        if (names.length === 0) fail(`\`${n.all ? "all" : "1"} of ${n.pattern}\` matches no search identifier`);
        const parts = names.map(byName);
        return n.all ? and(parts) : or(parts);
      }
    }
  };
  return or(conditions.map((c) => walk(parseCondition(c as string))));
}
