/** IP addresses and ranges: parsing, normalization, containment. */
import t from "tap";
import { parseIp } from "../../src/evaluator/cidr.js";

const ip = (s: string) => {
  const v = parseIp(s);
  if (v === null) throw new Error(`does not parse: ${s}`);
  return v;
};

t.test("parsing and printing", async (t) => {
  const rows: [string, string | null][] = [
    ["10.0.0.1", "10.0.0.1"],
    ["10.0.0.1/32", "10.0.0.1"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["255.255.255.255", "255.255.255.255"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fd00::/8", "fd00::/8"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
    ["010.0.0.1", null],
    ["256.0.0.1", null],
    ["1.2.3", null],
    ["1.2.3.4/33", null],
    ["1.2.3.4/", null],
    ["1.2.3.4/08", null],
    ["fe80::1%eth0", null],
    ["1::2::3", null],
    ["1:2:3:4:5:6:7:8:9", null],
    ["12345::", null],
    ["::/129", null],
    ["", null],
    [" 1.2.3.4", null],
  ];
  for (const [text, want] of rows) {
    const v = parseIp(text);
    t.equal(v === null ? null : v.toString(), want, text);
  }
});

t.test("containment", async (t) => {
  t.ok(ip("10.0.0.0/8").contains(ip("10.255.255.255")));
  t.notOk(ip("10.0.0.0/8").contains(ip("11.0.0.0")));
  t.ok(ip("0.0.0.0/0").contains(ip("1.2.3.4")));
  t.ok(ip("10.0.0.0/8").contains(ip("10.1.0.0/16")));
  t.notOk(ip("10.1.0.0/16").contains(ip("10.0.0.0/8")));
  t.ok(ip("10.0.0.1").contains(ip("10.0.0.1")));
  t.ok(ip("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
  t.notOk(ip("2001:db8::/32").contains(ip("2001:db9::1")));
  t.ok(ip("2001:db8::/33").contains(ip("2001:db8:7fff::")));
  t.notOk(ip("2001:db8::/33").contains(ip("2001:db8:8000::")));
  t.ok(ip("::/0").contains(ip("::1")));
  t.notOk(ip("::/0").contains(ip("1.2.3.4")), "families never mix");
  t.notOk(ip("0.0.0.0/0").contains(ip("::1")));
  t.ok(ip("10.0.0.0/8").contains(ip("::ffff:10.9.9.9")), "IPv4-mapped is IPv4");
  t.ok(ip("fe80::/10").contains(ip("febf::1")));
  t.notOk(ip("fe80::/10").contains(ip("fec0::1")));
});

t.test("equality", async (t) => {
  t.ok(ip("10.0.0.1").equals(ip("10.0.0.1/32")));
  t.ok(ip("10.9.0.0/8").equals(ip("10.0.0.0/8")));
  t.notOk(ip("10.0.0.0/8").equals(ip("10.0.0.0/9")));
  t.notOk(ip("::a00:1").equals(ip("10.0.0.1")));
  t.notOk(ip("10.0.0.1").equals("10.0.0.1"));
});

t.test("a range string in an address field cannot slip past a deny rule", async (t) => {
  // Read as a range, "203.0.113.9/0" was inside no blocked range: `in` was false and the allow won.
  const { evaluator, access } = await import("./helpers.js");
  const ev = evaluator(
    'const blocked = [ip("203.0.113.0/24"), ip("198.51.100.0/24")]\ndeny "blocked-nets" {\n  when context.source_ip in blocked\n}\ndeny "blocked-one" {\n  when context.source_ip in ip("203.0.113.0/24")\n}\nallow "a" {\n  when true\n}\n',
  );
  const req = (source_ip: string) => ({ principal: {}, action: "a", resource: {}, context: { source_ip } });
  for (const ipText of ["203.0.113.9/0", "203.0.113.9/32", "0.0.0.0/0", "::ffff:203.0.113.9/96"]) {
    for (const explain of [false, true]) {
      const d = access(ev, req(ipText), explain);
      t.equal(d.decision, "deny", `${ipText}, explain ${explain}`);
      t.same(d.errors.map((e) => e.message), [`\`in\` needs an IP address, found ${JSON.stringify(ipText)}`, `\`in\` needs an IP address, found ${JSON.stringify(ipText)}`]);
    }
  }
  t.equal(access(ev, req("203.0.113.9")).decision, "deny", "an address in a blocked range");
  t.equal(access(ev, req("::ffff:203.0.113.9")).decision, "deny", "the same address IPv4-mapped");
  t.equal(access(ev, req("192.0.2.1")).decision, "allow", "an address outside them");
});
