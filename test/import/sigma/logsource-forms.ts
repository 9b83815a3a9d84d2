/**
 * The built-in pipelines' logsource conditions, read back for tests: which
 * fields an event needs for the condition to hold (to build one) and whether
 * an event meets it (to judge one). Only the forms pipelines.ts writes are
 * understood; anything else throws, so a new form cannot pass unread:
 *
 *   (F ?? false) in [1, "1", ...]      F is one of the literals
 *   (F ?? false) == "v"                F is "v"
 *   ((F ?? false) == "v" or type(F ?? 0) == "list" and F contains "v")   F is "v" or a list holding it
 */
import { isMissing, lookup, type Event } from "./reference-matcher.js";

export interface Requirement {
  path: string[];
  /** Accepted values. */
  values: unknown[];
  /** A list holding one of them also counts. */
  listOk: boolean;
}

const FORMS: [RegExp, (m: RegExpExecArray) => Requirement][] = [
  [/^\(\(([\w.]+) \?\? false\) == ("[^"]*") or type\(\1 \?\? 0\) == "list" and \1 contains \2\)/, (m) => ({ path: m[1]!.split("."), values: [JSON.parse(m[2]!)], listOk: true })],
  [/^\(([\w.]+) \?\? false\) in (\[[^\]]*\])/, (m) => ({ path: m[1]!.split("."), values: JSON.parse(m[2]!) as unknown[], listOk: false })],
  [/^\(([\w.]+) \?\? false\) == ("[^"]*")/, (m) => ({ path: m[1]!.split("."), values: [JSON.parse(m[2]!)], listOk: false })],
];

export function requirements(condition: string): Requirement[] {
  const out: Requirement[] = [];
  let rest = condition;
  for (;;) {
    const hit = FORMS.map(([re, f]) => {
      const m = re.exec(rest);
      return m ? { len: m[0].length, req: f(m) } : undefined;
    }).find((x) => x !== undefined);
    if (hit === undefined) throw new Error(`unknown logsource condition form: ${rest}`);
    out.push(hit.req);
    rest = rest.slice(hit.len);
    if (rest === "") return out;
    if (!rest.startsWith(" and ")) throw new Error(`unknown logsource condition form: ${rest}`);
    rest = rest.slice(5);
  }
}

export function meets(event: Event, reqs: Requirement[]): boolean {
  return reqs.every((r) => {
    const v = lookup(event, r.path);
    if (isMissing(v)) return false;
    if (r.values.some((x) => x === v)) return true;
    return r.listOk && Array.isArray(v) && v.some((e) => r.values.includes(e));
  });
}
