/**
 * `contains_any` and `contains_all` over two long lists go through an index
 * (src/evaluator/value-index.ts): the same answers as comparing every pair
 * with `==`, in work linear in the lists.
 */
import t from "tap";
import { compile } from "../../src/engine.js";
import { containsSetOp, PAIRWISE_LIMIT } from "../../src/evaluator/operators.js";
import { deepEqual, type Value } from "../../src/evaluator/values.js";
import { Duration } from "../../src/evaluator/duration.js";
import { parseIp } from "../../src/evaluator/cidr.js";
import { Time } from "../../src/evaluator/time.js";
import type { AccessDecision } from "../../src/evaluator/decision.js";

const SPAN = { file: "t.policy", line: 1, column: 1 };

function pairwise(op: "contains_any" | "contains_all", l: Value[], r: Value[]): boolean {
  return op === "contains_any" ? r.some((x) => l.some((e) => deepEqual(e, x))) : r.every((x) => l.some((e) => deepEqual(e, x)));
}

t.test("the index answers as pairwise `==` does, on values that are easy to key wrongly", async (t) => {
  const shared = { a: [NaN] }; // equal to itself by reference only
  const values: Value[] = [
    "1", 1, 0, -0, true, "true", null, "null", NaN, Infinity, -Infinity, "", "u",
    [], [1], ["1"], [1, 2], [[1], 2], [1, [2]], [null], [undefined as unknown as Value], {},
    { a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1 }, { a: 1, b: undefined as unknown as Value }, { a: "1" }, { "a,b": 1 }, { a: { b: 1 } },
    { a: [NaN] }, shared, [Infinity],
    new Duration(60_000), parseIp("10.0.0.0/8")!, parseIp("10.0.0.1")!, new Time(0), "1970-01-01T00:00:00Z", [new Duration(1)],
  ];
  // Pad both sides past the pairwise limit so the index is used, with values that match nothing above.
  const pad = (n: number) => Array.from({ length: n }, (_, i) => `pad-${i}`);
  let checked = 0;
  const wrong: string[] = [];
  for (const x of values) {
    for (const y of values) {
      const l = [...pad(PAIRWISE_LIMIT), x];
      for (const r of [[y], [y, ...pad(PAIRWISE_LIMIT)]]) {
        for (const op of ["contains_any", "contains_all"] as const) {
          if (containsSetOp(op, l, r, SPAN) !== pairwise(op, l, r)) wrong.push(`${op}: ${String(x)} against ${String(y)}`);
          checked++;
        }
      }
    }
  }
  const longAll = Array.from({ length: 2000 }, (_, i) => ({ id: i, tags: [`t${i}`] }));
  t.equal(containsSetOp("contains_all", longAll, longAll.slice().reverse(), SPAN), true, "every element found");
  t.equal(containsSetOp("contains_all", longAll, [...longAll, { id: 0, tags: ["t1"] }], SPAN), false, "one missing");
  t.same(wrong, [], `${checked} comparisons agree`);
});

t.test("two long lists from the request are compared in linear work, not pairwise", async (t) => {
  // Count how often the elements' keys are listed (deepEqual lists both
  // operands' keys for every pair it compares): pairwise, 2000 groups
  // against 2000 groups listed keys 12 million times (32 s here).
  let listed = 0;
  const counted = (o: object) =>
    new Proxy(o, {
      ownKeys(target) {
        listed++;
        return Reflect.ownKeys(target);
      },
    });
  const n = 2000;
  const groups = (prefix: string) => Array.from({ length: n }, (_, i) => counted({ id: `${prefix}${i}` }));
  const engine = compile(
    'allow "shared-group" {\n  when principal.groups contains_any resource.groups\n}\n' +
      'allow "all-groups" {\n  when principal.groups contains_all resource.groups\n}\n',
  );
  const deny = engine.evaluate({ principal: { groups: groups("p") }, action: "read", resource: { groups: groups("r") } }) as AccessDecision;
  t.equal(deny.decision, "deny");
  const both = groups("g");
  const allow = engine.evaluate({ principal: { groups: both }, action: "read", resource: { groups: both.slice(1) } }) as AccessDecision;
  t.equal(allow.decision, "allow");
  t.ok(listed <= 12 * n, `keys listed ${listed} times for lists of ${n}`);
});
