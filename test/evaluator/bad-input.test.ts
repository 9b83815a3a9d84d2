/**
 * Bad input never throws: it is a deny (or reject) with a clear error,
 * whatever the caller passes, including hostile JavaScript objects and
 * stores that throw.
 */
import t from "tap";
import { access, encryption, evaluator, mesh } from "./helpers.js";
import { Gen, prng } from "./random-policy.js";

const POLICY = `allow "a" { when principal.roles contains "x" }\nencryption default { require tee }\nmesh "m" {\n  network "10.0.0.0/8"\n  when true\n}`;
const ev = evaluator(POLICY);

t.test("bad access inputs: deny with a clear error", async (t) => {
  const cases: [unknown, string[]][] = [
    [null, ["input must be an object, found null"]],
    [42, ["input must be an object, found number"]],
    ["principal", ["input must be an object, found string"]],
    [[{ principal: {} }], ["input must be an object, found list"]],
    [undefined, ["input must be an object, found unsupported"]],
    [{}, ["input is missing `principal`", "input is missing `action`", "input is missing `resource`"]],
    [{ principal: "alice", action: "read", resource: {} }, ["input `principal` must be an object, found string"]],
    [{ principal: {}, action: "read", resource: [] }, ["input `resource` must be an object, found list"]],
    [{ principal: {}, action: "read", resource: {}, context: 3 }, ["input `context` must be an object, found number"]],
    [{ principal: {}, action: "read", resource: {}, time: "noon" }, ['input `time` is not an RFC 3339 time: "noon"']],
    [{ principal: {}, action: "read", resource: {}, time: true }, ["input `time` must be an RFC 3339 string or epoch seconds, found boolean"]],
    [{ kind: "audit", principal: {}, action: "read", resource: {} }, ['input `kind` must be "access", "encryption" or "mesh", found "audit"']],
    [{ kind: 1 }, ['input `kind` must be "access", "encryption" or "mesh", found number']],
  ];
  for (const [input, messages] of cases) {
    const d = access(ev, input);
    t.equal(d.decision, "deny", JSON.stringify(input));
    t.same(d.errors.map((e) => e.message), messages);
    t.same(d.reasons, [{ rule: null, effect: "deny", message: "invalid input" }]);
    t.ok(d.errors.every((e) => e.rule === null && e.span === null));
  }
  t.equal(encryption(ev, { kind: "encryption", data: 5 }).compliant, false);
  t.equal(mesh(ev, { kind: "mesh", node: [] }).decision, "reject");
});

t.test("only the input's own fields count: one inherited from a prototype is missing", async (t) => {
  const fields = { principal: { roles: ["x"] }, action: "read", resource: {} };
  for (const name of ["principal", "action", "resource"] as const) {
    const input = Object.create({ [name]: fields[name] }) as Record<string, unknown>;
    for (const other of Object.keys(fields)) if (other !== name) input[other] = fields[other as keyof typeof fields];
    const d = access(ev, input);
    t.equal(d.decision, "deny", name);
    t.same(d.errors.map((e) => e.message), [`input is missing \`${name}\``], name);
  }
  t.equal(access(ev, { ...fields }).decision, "allow", "control: the same fields, own, allow");
});

t.test("hostile objects and throwing stores fail closed, never throw", async (t) => {
  const throwing = {
    get principal(): unknown {
      throw new Error("boom");
    },
    action: "read",
    resource: {},
  };
  const d = access(ev, throwing);
  t.equal(d.decision, "deny");
  t.match(d.errors[0]!.message, /^internal error: boom/);
  const proxy = new Proxy(
    {},
    {
      get() {
        throw new Error("trap");
      },
      has() {
        throw new Error("trap");
      },
      getOwnPropertyDescriptor() {
        throw new Error("trap");
      },
    },
  );
  t.equal(access(ev, proxy).decision, "deny");
  const cyclic: Record<string, unknown> = { action: "read", resource: {} };
  cyclic["principal"] = { roles: ["x"], self: cyclic };
  t.equal(access(ev, cyclic).decision, "allow", "cycles are harmless: nothing walks the whole input");
  const storeEv = evaluator(`allow "r" { when risk(principal.id) < 50 }`, {
    risk: {
      risk() {
        throw new Error("store down");
      },
      quarantined: () => false,
    },
  });
  const s = access(storeEv, { principal: { id: "u" }, action: "a", resource: {} });
  t.equal(s.decision, "deny");
  t.match(s.errors[0]!.message, "internal error: store down");
  t.equal(access(storeEv, { principal: { id: "u" }, action: "a", resource: {} }).decision, "deny", "and the next call still works");
});

t.test("a thrown value that cannot be made a string does not escape either", async (t) => {
  // Describing the exception threw in turn (String(null-prototype object), a throwing `message`), past the catch.
  class BadMessage extends Error {
    override get message(): string {
      throw new Error("no message");
    }
  }
  const thrown: (() => unknown)[] = [
    () => Object.create(null),
    () => ({
      toString(): string {
        throw new Error("no string");
      },
    }),
    () => new BadMessage(),
  ];
  for (const make of thrown) {
    const input = {
      get principal(): unknown {
        throw make();
      },
      action: "read",
      resource: {},
    };
    const d = access(ev, input);
    t.equal(d.decision, "deny");
    t.same(d.errors.map((e) => e.message), ["internal error: an exception that cannot be shown"]);
    t.equal(encryption(ev, { kind: "encryption", get data(): unknown { throw make(); } }).required, true);
    t.equal(mesh(ev, { kind: "mesh", get node(): unknown { throw make(); } }).decision, "reject");
  }
});

t.test("random garbage never throws and never allows", async (t) => {
  const g = new Gen(prng(7));
  const atoms = [null, 0, -1, 1.5, "", "y", true, [], {}, [[]], { a: null }, Number.NaN, Infinity];
  const rand = (depth: number): unknown => {
    if (depth > 3 || g.chance(0.4)) return g.pick(atoms);
    if (g.chance(0.5)) return Array.from({ length: g.int(3) }, () => rand(depth + 1));
    const o: Record<string, unknown> = {};
    for (const k of g.some(["principal", "action", "resource", "context", "kind", "time", "roles", "data", "node", "__proto__", "constructor"], 4)) {
      o[k] = rand(depth + 1);
    }
    return o;
  };
  let allowed = 0;
  for (let i = 0; i < 3000; i++) {
    const input = rand(0);
    let d: { decision: string };
    try {
      d = ev.evaluate(input) as { decision: string };
    } catch (err) {
      t.fail(`threw on ${String(input)}: ${String(err)}`);
      return;
    }
    if (d.decision === "allow" || d.decision === "admit") allowed++;
  }
  t.equal(allowed, 0, "nothing in the garbage has principal.roles containing \"x\"");
});
