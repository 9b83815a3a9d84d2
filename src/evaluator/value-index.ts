/**
 * Membership by `==` (deepEqual) in a list, in time linear in the sizes of
 * the values, for `contains_any` and `contains_all` over two long lists.
 *
 * Comparing every element with every other made `principal.groups
 * contains_any resource.groups` quadratic in the request: two lists of
 * 16,000 strings (a 300 KB body) held the event loop for seconds. Here each
 * element of the searched list is keyed once: a primitive by itself, a list
 * or object by a canonical text (keys sorted, as deepEqual ignores their
 * order), so a probe is one set lookup.
 *
 * What a key cannot stand for is compared the old way: a duration, IP or
 * time (a time equals its text and its epoch seconds, so it may equal a
 * primitive) or a number that is not finite (equal to nothing, not even
 * itself), anywhere inside an element. Input is JSON and holds none of
 * them; they come from policy constants, which are small.
 */
import { Special, deepEqual, type ObjectValue, type Value } from "./values.js";

/** A structure's key: its canonical text, or null when deepEqual must judge it (see above). */
function structureKey(root: object): string | null {
  const out: string[] = [];
  // Work list, last first: a value to write, or (in a box) text to write as is.
  const work: unknown[] = [root];
  while (work.length > 0) {
    const v = work.pop();
    if (v instanceof Literal) {
      out.push(v.text);
      continue;
    }
    switch (typeof v) {
      case "string":
        out.push(JSON.stringify(v));
        continue;
      case "number":
        if (!Number.isFinite(v)) return null;
        out.push(String(v)); // -0 writes "0", as 0 === -0
        continue;
      case "boolean":
        out.push(v ? "t" : "f");
        continue;
      case "undefined":
        out.push("u");
        continue;
      case "object":
        break;
      default:
        return null;
    }
    if (v === null) {
      out.push("n");
      continue;
    }
    if (v instanceof Special) return null;
    if (Array.isArray(v)) {
      work.push(CLOSE_LIST);
      for (let i = v.length - 1; i >= 0; i--) {
        work.push(v[i]);
        if (i > 0) work.push(COMMA);
      }
      out.push("[");
      continue;
    }
    const o = v as ObjectValue;
    // deepEqual counts own enumerable keys whose value is not undefined, in any order.
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    work.push(CLOSE_OBJECT);
    for (let i = keys.length - 1; i >= 0; i--) {
      work.push(o[keys[i]!]);
      work.push(new Literal((i > 0 ? "," : "") + JSON.stringify(keys[i]!) + ":"));
    }
    out.push("{");
  }
  return out.join("");
}

class Literal {
  constructor(readonly text: string) {}
}
const COMMA = new Literal(",");
const CLOSE_LIST = new Literal("]");
const CLOSE_OBJECT = new Literal("}");

function isKeyedPrimitive(v: unknown): boolean {
  return typeof v === "string" || typeof v === "boolean" || v === null || (typeof v === "number" && Number.isFinite(v));
}

/** The elements of a list, ready for `has(x)`: true when some element deepEquals x. */
export class ValueIndex {
  private readonly primitives = new Set<unknown>();
  private readonly structures = new Set<string>();
  /** Elements only deepEqual can judge. */
  private readonly others: Value[] = [];

  constructor(private readonly list: readonly Value[]) {
    for (const e of list) {
      if (isKeyedPrimitive(e)) this.primitives.add(e);
      else if (typeof e === "object" && e !== null) {
        const key = structureKey(e);
        if (key === null) this.others.push(e);
        else this.structures.add(key);
      } else this.others.push(e);
    }
  }

  has(x: Value): boolean {
    let key: string | null = null;
    if (isKeyedPrimitive(x)) {
      if (this.primitives.has(x)) return true;
    } else if (typeof x === "object" && x !== null) {
      key = structureKey(x);
      if (key === null) {
        // A probe only deepEqual can judge (a time may equal a string element): every element.
        for (const e of this.list) if (deepEqual(e, x)) return true;
        return false;
      }
      if (this.structures.has(key)) return true;
    }
    for (const e of this.others) if (deepEqual(e, x)) return true;
    return false;
  }
}
