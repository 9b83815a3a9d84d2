/**
 * Every operator and builtin, table-driven: values, type errors, missing
 * attributes (spec/LANGUAGE.md section 3 and the choices documented at the
 * top of src/evaluator/*.ts). Expected values are written from the spec.
 */
import t from "tap";
import { valueOf, type Outcome } from "./helpers.js";
import { MemoryRiskStore } from "../../src/evaluator/stores.js";

const INPUT = {
  principal: {
    id: "alice",
    roles: ["ops", "dev"],
    clearance: 3,
    name: "Alice",
    greek: "ΟΔΟΣΚΑΛΗ",
    nothing: null,
    tags: { team: "infra" },
    "x-y": 7,
  },
  action: "node.restart",
  resource: { type: "node", env: "prod", size: 10, ip: "10.1.2.3", created: "2025-12-31T12:00:00Z", list: [1, "a", [2], { k: 1 }] },
  context: { mfa: { verified_at: "2026-01-01T11:50:00Z" }, epoch: 1767268800, mapped: "::ffff:10.1.2.3", net: "10.1.2.0/24", octal: "010.1.2.3" },
  time: "2026-01-01T12:00:00Z",
};

type Row = [expr: string, expected: Outcome];
const v = (value: unknown): Outcome => ({ value });
const err = (error: string): Outcome => ({ error });

function table(name: string, rows: Row[], consts = "") {
  t.test(name, async (t) => {
    for (const [expr, expected] of rows) {
      const got = valueOf(expr, INPUT, consts);
      if ("error" in expected) {
        t.ok("error" in got, `${expr} errors (got ${JSON.stringify(got)})`);
        if ("error" in got) t.match(got.error, expected.error, `${expr}: error message`);
      } else {
        t.same(got, expected, expr);
      }
    }
  });
}

table("equality: by value, deep, different types unequal", [
  ["principal.clearance == 3", v(true)],
  ['principal.clearance == "3"', v(false)],
  ['principal.roles == ["ops", "dev"]', v(true)],
  ['principal.roles == ["dev", "ops"]', v(false)],
  ['principal.tags == { team: "infra" }', v(true)],
  ['principal.tags == { team: "infra", x: 1 }', v(false)],
  ['resource.list == [1, "a", [2], { k: 1 }]', v(true)],
  ["1h == 60m", v(true)],
  ["1h == 3600000", v(false)],
  ['ip("10.0.0.1") == ip("10.0.0.1/32")', v(true)],
  ['ip("10.1.2.3/8") == ip("10.0.0.0/8")', v(true)],
  ['ip("10.0.0.1") == "10.0.0.1"', v(false)],
  ["principal.clearance != 4", v(true)],
  ["principal.clearance != 3", v(false)],
  ['3 == principal.clearance', v(true)],
  ['now == "2026-01-01T12:00:00Z"', v(true)],
  ["now == 1767268800", v(true)],
  ['now == "noon"', v(false)],
  ["true == true", v(true)],
  ['principal.nothing == principal.nothing', v(true)],
]);

table("ordering: numbers, durations, times; anything else is an error", [
  ["principal.clearance < 4", v(true)],
  ["principal.clearance >= 3", v(true)],
  ["principal.clearance > 3", v(false)],
  ["principal.clearance <= 2", v(false)],
  ["principal.name < 4", err("`<` needs two numbers, two durations or two times, found string and number")],
  ['"a" < "b"', err("`<` needs two numbers, two durations or two times, found string and string")],
  ["resource.created < now", v(true)],
  ['resource.created < "2026-01-01T00:00:00Z"', v(true)],
  ['resource.created > "2026-01-01T00:00:00+01:00"', v(false)],
  ['resource.created >= "2025-12-31T13:00:00+01:00"', v(true)],
  ["15m < 1h", v(true)],
  ["1h30m > 90m", v(false)],
  ["15m < 5", err("found duration and number")],
  ["5 > 15m", err("found number and duration")],
  ["principal.roles < 3", err("found list and number")],
  ["age(resource.created) > 23h", v(true)],
  ["context.epoch < now", v(false)],
  ["context.epoch <= now", v(true)],
  ["now > 1767268799", v(true)],
  // Times a millisecond apart.
  ['now <= "2026-01-01T11:59:59.999Z"', v(false)],
  ['now < "2026-01-01T12:00:00.001Z"', v(true)],
  ['now >= "2026-01-01T12:00:00.001Z"', v(false)],
  ['now > "2026-01-01T11:59:59.999Z"', v(true)],
  ['now < "tomorrow"', err("found time and string")],
]);

table("attribute reads: missing is an error, `??` and null", [
  ["principal.missing == 1", err("missing attribute `principal.missing`")],
  ["principal.roles.x", err("cannot read `x` of a list (`principal.roles`)")],
  ["principal.name.first", err("cannot read `first` of a string (`principal.name`)")],
  ["principal.nothing.x", err("missing attribute `principal.nothing.x`")],
  ["principal.nothing", v(null)],
  ["(principal.nothing.x ?? 5) == 5", v(true)],
  ["principal.roles.x ?? 5", err("cannot read `x` of a list")],
  ['(principal.missing ?? "d") == "d"', v(true)],
  ["principal.missing ?? principal.clearance", v(3)],
  ["principal.missing.deeper.still ?? 1", v(1)],
  ["principal.clearance ?? 1", v(3)],
  ["principal.nothing ?? 1", v(null)],
  ["principal.missing ?? principal.gone", err("missing attribute `principal.gone`")],
  ["principal.constructor", err("missing attribute `principal.constructor`")],
  ['principal["__proto__"]', err('missing attribute `principal["__proto__"]`')],
  ['principal["toString"] ?? "none"', v("none")],
  ['principal["x-y"] == 7', v(true)],
  ['resource.list[1] == "a"', v(true)],
  ["resource.list[2]", v([2])],
  ["resource.list[9]", err("missing attribute `resource.list[9]`")],
  ["resource.list[-1]", err("missing attribute")],
  ['resource.list["a"]', err("cannot index a list (`resource.list`) with a string")],
  ["principal[1]", err("cannot index an object (`principal`) with a number")],
  ["resource.list[0.5]", err("cannot index a list")],
  ['principal[lower("NAME")]', v("Alice")],
  ["context.mfa.verified_at", v("2026-01-01T11:50:00Z")],
  ["nope", err("unknown name `nope`")],
]);

table("has: presence of an attribute", [
  ["principal has roles", v(true)],
  ["principal has missing", v(false)],
  ["principal has nothing", v(true)],
  ['principal has "x-y"', v(true)],
  ["principal.roles has x", v(false)],
  ["principal.nothing has x", v(false)],
  ["principal.missing has x", err("missing attribute `principal.missing`")],
  ["principal has constructor", v(false)],
]);

table("and, or, not: booleans only, short-circuit left to right", [
  ["true and principal.missing == 1", err("missing attribute")],
  ["false and principal.missing == 1", v(false)],
  ["true or principal.missing == 1", v(true)],
  ["false or principal.missing == 1", err("missing attribute")],
  ["principal.clearance and true", err("`and` needs booleans, found number")],
  ["true and principal.clearance", err("`and` needs booleans, found number")],
  ['false or "yes"', err("`or` needs booleans, found string")],
  ["not principal.clearance", err("`not` needs a boolean, found number")],
  ["not false", v(true)],
  ["not (principal.clearance == 3)", v(false)],
  ['principal has geo and principal.geo.country == "XX"', v(false)],
  ["principal.missing == 1 and false", err("missing attribute")],
]);

table("in: membership, CIDR containment", [
  ['action in ["node.restart", "x"]', v(true)],
  ['action in ["x"]', v(false)],
  ["action in []", v(false)],
  ["principal.clearance in [1, 2, 3]", v(true)],
  ['"3" in [1, 2, 3]', v(false)],
  ["[2] in resource.list", v(true)],
  ["{ k: 1 } in resource.list", v(true)],
  ["{ k: 2 } in resource.list", v(false)],
  ['action in "node.restart"', err("`in` needs a list or an ip() range on the right, found string")],
  ['resource.ip in ip("10.0.0.0/8")', v(true)],
  ['resource.ip in ip("192.168.0.0/16")', v(false)],
  ['principal.name in ip("10.0.0.0/8")', err('`in` needs an IP address, found "Alice"')],
  ['principal.clearance in ip("10.0.0.0/8")', err("`in` needs an IP address on the left of an ip() range, found number")],
  ['resource.ip in [ip("192.168.0.0/16"), ip("10.0.0.0/8")]', v(true)],
  ['resource.ip in [ip("192.168.0.0/16")]', v(false)],
  ['principal.name in [ip("10.0.0.0/8"), "Alice"]', err('`in` needs an IP address, found "Alice"')],
  ['"::ffff:10.1.2.3" in ip("10.0.0.0/8")', v(true)],
  ['"2001:db8::1" in ip("10.0.0.0/8")', v(false)],
  ['"10.0.0.1" in ip("::/0")', v(false)],
  ['"2001:db8::1" in ip("2001:db8::/32")', v(true)],
  ['"2001:db9::1" in ip("2001:db8::/32")', v(false)],
  ['ip("10.1.0.0/16") in ip("10.0.0.0/8")', v(true)],
  ['ip("10.0.0.0/8") in ip("10.1.0.0/16")', v(false)],
  ['"1.2.3.4" in ip("0.0.0.0/0")', v(true)],
  // An address read from the input against IPv4 ranges (compiled without making an Ip).
  ['resource.ip in [ip("0.0.0.0/0")]', v(true)],
  ['resource.ip in [ip("10.1.2.3")]', v(true)],
  ['resource.ip in [ip("10.1.2.4"), ip("10.1.2.2/31")]', v(true)],
  ['resource.ip in [ip("10.1.2.4"), ip("11.0.0.0/8")]', v(false)],
  ['not (resource.ip in [ip("10.1.0.0/16")])', v(false)],
  ['context.mapped in [ip("10.0.0.0/8")]', v(true)],
  ['context.mapped in [ip("11.0.0.0/8")]', v(false)],
  // A string is an address, never a range: "203.0.113.9/0" must not slip past a deny on 203.0.113.0/24.
  ['context.net in [ip("10.1.0.0/16")]', err('`in` needs an IP address, found "10.1.2.0/24"')],
  ['context.net in [ip("10.1.2.0/25")]', err('`in` needs an IP address, found "10.1.2.0/24"')],
  ['context.net in ip("10.1.0.0/16")', err('`in` needs an IP address, found "10.1.2.0/24"')],
  ['context.net in [ip("10.1.0.0/16"), "x"]', err('`in` needs an IP address, found "10.1.2.0/24"')],
  ['"10.1.2.3/32" in ip("10.0.0.0/8")', err('`in` needs an IP address, found "10.1.2.3/32"')],
  ['ip(context.net) in ip("10.1.0.0/16")', v(true)],
  ['context.octal in [ip("10.0.0.0/8")]', err('`in` needs an IP address, found "010.1.2.3"')],
  ['principal.name in [ip("10.0.0.0/8")]', err('`in` needs an IP address, found "Alice"')],
  ['principal.clearance in [ip("10.0.0.0/8")]', err("`in` needs an IP address on the left of an ip() range, found number")],
  ['ip("300.1.1.1") == ip("300.1.1.1")', err('invalid IP address or range "300.1.1.1"')],
  ["ip(principal.clearance)", err("`ip` needs a string, found number")],
  ['ip("10.0.0.0/8")', v("10.0.0.0/8")],
  ['ip("2001:DB8:0:0:0:0:0:1")', v("2001:db8::1")],
  ['resource.ip in nets', v(true)],
  ['action in acts', v(true)],
], 'const nets = [ip("10.0.0.0/8"), ip("fd00::/8")]\nconst acts = ["node.restart", "node.drain"]');

table("contains, contains_any, contains_all", [
  ['principal.roles contains "ops"', v(true)],
  ['principal.roles contains "x"', v(false)],
  ['principal.name contains "A"', err("`contains` needs a list on the left, found string")],
  ["resource.list contains [2]", v(true)],
  ['resource.list contains "a"', v(true)],
  ['principal.roles contains_any ["x", "dev"]', v(true)],
  ["principal.roles contains_any []", v(false)],
  ['principal.roles contains_all ["ops", "dev"]', v(true)],
  ["principal.roles contains_all []", v(true)],
  ['principal.roles contains_all ["ops", "x"]', v(false)],
  ['principal.name contains_any ["A"]', err("`contains_any` needs two lists, found string and list")],
  ['principal.roles contains_all "ops"', err("`contains_all` needs two lists, found list and string")],
]);

table("like, starts_with, ends_with, matches", [
  ['principal.name like "Al*"', v(true)],
  ['principal.name like "al*"', v(false)],
  ['"a*b" like "a\\\\*b"', v(true)],
  ['"axb" like "a\\\\*b"', v(false)],
  // The spec's own spelling (section 3: "`\*` a literal star"): the same pattern as the JSON one.
  ['"a*b" like "a\\*b"', v(true)],
  ['"axb" like "a\\*b"', v(false)],
  ['"a\\\\xb" like "a\\*b"', v(false)],
  ['"a*b" == "a\\*b"', v(false)],
  ['"a\\\\*b" == "a\\*b"', v(true)],
  ['"abc" like "a*"', v(true)],
  ['"abc" like "*c"', v(true)],
  ['"abc" like "b*"', v(false)],
  ['"abc" like "abc"', v(true)],
  ['"abcd" like "abc"', v(false)],
  ['"" like "*"', v(true)],
  ['"aXbXc" like "a*b*c"', v(true)],
  ['"ab" like "a*b*b"', v(false)],
  ['"a?c" like "a?c"', v(true)],
  ['"abc" like "a?c"', v(false)],
  ['principal.clearance like "3"', err("`like` needs two strings, found number and string")],
  ['principal.name like principal.name', v(true)],
  ['action starts_with "node."', v(true)],
  ['action ends_with "restart"', v(true)],
  ['action ends_with "node"', v(false)],
  ['principal.clearance starts_with "3"', err("`starts_with` needs two strings")],
  ['principal.name matches "^Al"', v(true)],
  ['principal.name matches "ice$"', v(true)],
  ['principal.name matches "^ice"', v(false)],
  ['principal.name matches "("', err("invalid regular expression")],
]);

table("arithmetic", [
  ["principal.clearance + 1", v(4)],
  ["principal.clearance * 2 - 1", v(5)],
  ["principal.clearance / 0", err("division by zero")],
  ["principal.clearance / 2", v(1.5)],
  ['"a" + "b"', v("ab")],
  ["1h + 30m", v("1h30m")],
  ["15m * 2", v("30m")],
  ["2 * 15m", v("30m")],
  ["1h / 4", v("15m")],
  ["1h - 2h", v("-1h")],
  ["principal.name - 1", err("`-` needs two numbers, two durations, a time and a duration or two times, found string and number")],
  ['"a" + 1', err("`+` needs")],
  ["-principal.clearance", v(-3)],
  ["-principal.name", err("`-` needs a number or a duration, found string")],
  ["-15m", v("-15m")],
  ["now - 1h", v("2026-01-01T11:00:00.000Z")],
  ["now + 1d > now", v(true)],
  ["now - (now - 90m)", v("1h30m")],
  ["now - resource.created", err("found time and string")],
  ["1h / 0", err("division by zero")],
]);

table("builtins", [
  ["size(principal.roles)", v(2)],
  ['size("héllo😀")', v(6)],
  ["size(principal.tags)", v(1)],
  ["size(principal.clearance)", err("`size` needs a list, a string or an object, found number")],
  ["lower(principal.name)", v("alice")],
  ["upper(principal.name)", v("ALICE")],
  ["lower(1)", err("`lower` needs a string, found number")],
  // Per character: Σ is σ wherever it stands, and final ς is σ too (case folding), so a
  // string that holds another holds it lowered as well (JavaScript's toLowerCase makes a
  // word-final Σ a ς: "ΟΔΟΣΚΑΛΗ" lowered did not start with "ΟΔΟΣ" lowered).
  ["lower(principal.greek)", v("οδοσκαλη")],
  ['lower(principal.greek) starts_with lower("ΟΔΟΣ")', v(true)],
  ['lower("ΟΔΟΣ")', v("οδοσ")],
  ['lower("οδος") == lower("ΟΔΟΣ")', v(true)],
  ['lower("İ")', v("i\u0307")],
  ['upper("straße")', v("STRASSE")],
  ["upper(principal.roles)", err("`upper` needs a string, found list")],
  ["type(principal.name)", v("string")],
  ["type(principal.clearance)", v("number")],
  ["type(principal.nothing)", v("null")],
  ["type(principal.roles)", v("list")],
  ["type(principal.tags)", v("object")],
  ["type(1 == 1)", v("boolean")],
  ["type(15m)", v("duration")],
  ['type(ip("10.0.0.0/8"))', v("ip")],
  ["type(now)", v("time")],
  ["type(principal.missing ?? 0)", v("number")],
  ['type(principal.nothing ?? "") == "null"', v(true)],
  ["type(principal.missing)", err("missing attribute `principal.missing`")],
  ["hour(now)", v(12)],
  ['hour("2026-01-01T23:30:00+02:00")', v(21)],
  ["weekday(now)", v("thursday")],
  ["weekday(1767268800 + 86400 * 2)", v("saturday")],
  ['hour("nope")', err('`hour` needs an RFC 3339 time or epoch seconds, found "nope"')],
  ['weekday("2026-02-30T00:00:00Z")', err("needs an RFC 3339 time")],
  ["age(context.mfa.verified_at)", v("10m")],
  ["age(resource.created)", v("1d")],
  ["age(1767268800 - 60)", v("1m")],
  ['age("2026-01-01T12:00:00Z")', v("0s")],
  ['age("2027-01-01T00:00:00Z") < 0s', v(true)],
  ["age(true)", err("`age` needs an RFC 3339 time or epoch seconds, found true")],
  ["age(principal.missing)", err("missing attribute `principal.missing`")],
  ["risk(principal.id)", v(0)],
  ["risk(principal.clearance)", err("`risk` needs a string id, found number")],
  ["quarantined(principal.id)", v(false)],
  ["quarantined(3)", err("`quarantined` needs a string id, found number")],
  ["now", v("2026-01-01T12:00:00.000Z")],
  ["foo(1)", err("unknown function `foo`")],
  ["size(1, 2)", err("`size` takes 1 argument(s), got 2")],
]);

t.test("risk and quarantine read the injected store at the evaluation time", async (t) => {
  const store = new MemoryRiskStore();
  const noon = Date.parse("2026-01-01T12:00:00Z");
  store.raise("alice", 40, noon - 30 * 60_000, 3600_000); // until 12:30
  store.raise("alice", 80, noon - 2 * 3600_000, 3600_000); // lapsed at 11:00
  store.quarantine("alice", noon, 60_000);
  t.same(valueOf("risk(principal.id)", INPUT, "", { risk: store }), v(40));
  t.same(valueOf("risk(principal.id)", { ...INPUT, time: "2026-01-01T12:30:00Z" }, "", { risk: store }), v(0));
  t.same(valueOf("quarantined(principal.id)", INPUT, "", { risk: store }), v(true));
  t.same(valueOf("quarantined(principal.id)", { ...INPUT, time: "2026-01-01T12:01:00Z" }, "", { risk: store }), v(false));
  store.raise("bob", 70, noon);
  store.raise("bob", 70, noon);
  t.same(valueOf('risk("bob")', INPUT, "", { risk: store }), v(100), "capped at 100");
  const liar = { risk: () => Number.NaN, quarantined: () => "yes" as unknown as boolean };
  t.match(valueOf("risk(principal.id)", INPUT, "", { risk: liar }), { error: "the risk store answered something other than a number" });
  t.match(valueOf("quarantined(principal.id)", INPUT, "", { risk: liar }), { error: "the quarantine store answered something other than a boolean" });
});

t.test("now: the input's time, else the clock; epoch seconds accepted", async (t) => {
  const { time: _time, ...noTime } = INPUT;
  t.same(valueOf("now", noTime, "", { clock: () => Date.parse("2030-06-01T00:00:00Z") }), v("2030-06-01T00:00:00.000Z"));
  t.same(valueOf("now", { ...noTime, time: 1767268800 }), v("2026-01-01T12:00:00.000Z"));
  t.same(valueOf("hour(now)", { ...noTime, time: "2026-01-01T12:00:00-05:00" }), v(17));
  t.match(valueOf("now", noTime, "", { clock: () => Number.NaN }), { error: "`now` is not a valid time" });
  t.match(valueOf("age(context.mfa.verified_at)", noTime, "", { clock: () => Number.NaN }), { error: "`now` is not a valid time" });
});

t.test("consts fold, including consts over consts and across files of a package", async (t) => {
  const consts = 'const a = ["x", "y"]\nconst b = a\nconst limit = 2 * 15m\nconst net = ip("10.0.0.0/8")';
  t.same(valueOf("b", INPUT, consts), v(["x", "y"]));
  t.same(valueOf("limit", INPUT, consts), v("30m"));
  t.same(valueOf("resource.ip in net", INPUT, consts), v(true));
  t.match(valueOf("c", INPUT, "const c = d\nconst d = c"), { error: "depends on itself" });
});
