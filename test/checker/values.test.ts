/**
 * The value helpers the checker folds with (and the evaluator may reuse):
 * IP parsing and containment, globs, regexes, durations, RFC 3339 times.
 */
import t from "tap";
import { IpValue, parseIp } from "../../src/checker/ip-value.js";
import { compileRegex, globToRegExp } from "../../src/checker/patterns.js";
import { DurationValue, displayValue, formatDuration, parseRfc3339, valuesEqual } from "../../src/checker/values.js";

const ip = (s: string): IpValue => {
  const v = parseIp(s);
  if (!(v instanceof IpValue)) throw new Error(`${s}: ${v.error}`);
  return v;
};

t.test("parseIp accepts addresses and ranges", async (t) => {
  const cases: [string, 4 | 6, number][] = [
    ["10.0.0.1", 4, 32],
    ["100.64.0.0/10", 4, 10],
    ["0.0.0.0/0", 4, 0],
    ["::1", 6, 128],
    ["::", 6, 128],
    ["fd00::/8", 6, 8],
    ["2001:db8:0:0:0:0:0:1", 6, 128],
    ["::ffff:192.0.2.1", 6, 128],
    ["2001:DB8::/32", 6, 32],
  ];
  for (const [text, version, prefix] of cases) {
    const v = ip(text);
    t.equal(v.version, version, `${text} version`);
    t.equal(v.prefix, prefix, `${text} prefix`);
  }
});

t.test("parseIp rejects malformed text with a reason", async (t) => {
  for (const bad of ["", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/08", "1::2::3", "fe80::1%eth0", "12345::", "1:2:3:4:5:6:7:8:9", "::ffff:1.2.3", "1.2.3.4::", "abc"]) {
    const v = parseIp(bad);
    t.notOk(v instanceof IpValue, `${JSON.stringify(bad)} is rejected`);
    if (!(v instanceof IpValue)) t.ok(v.error.length > 0, "with a reason");
  }
});

t.test("containment, host bits, equality", async (t) => {
  t.ok(ip("10.0.0.0/8").contains(ip("10.200.1.1")));
  t.ok(ip("10.0.0.0/8").contains(ip("10.1.0.0/16")));
  t.notOk(ip("10.1.0.0/16").contains(ip("10.0.0.0/8")), "a wider range is not inside a narrower one");
  t.notOk(ip("10.0.0.0/8").contains(ip("11.0.0.1")));
  t.ok(ip("100.64.0.0/10").contains(ip("100.127.255.255")));
  t.notOk(ip("100.64.0.0/10").contains(ip("100.128.0.0")));
  t.notOk(ip("0.0.0.0/0").contains(ip("::1")), "families never mix");
  t.ok(ip("fd00::/8").contains(ip("fd12:3456::1")));
  t.ok(ip("10.0.0.1/8").hasHostBits());
  t.notOk(ip("10.0.0.0/8").hasHostBits());
  t.equal(ip("10.9.8.7/12").networkText(), "10.0.0.0/12");
  t.ok(valuesEqual(ip("::1"), ip("0:0:0:0:0:0:0:1")), "equal by value, not text");
  t.notOk(valuesEqual(ip("10.0.0.0/8"), ip("10.0.0.0/9")));
});

t.test("globs: * is any run, backslash escapes, everything else literal", async (t) => {
  const cases: [string, string, boolean][] = [
    ["adm*", "admin", true],
    ["adm*", "adm", true],
    ["adm*", "xadmin", false],
    ["*.prod", "db.prod", true],
    ["a.c", "abc", false],
    ["a\\*", "a*", true],
    ["a\\*", "ab", false],
    ["(x)+[y]", "(x)+[y]", true],
    ["a-b*", "a-bc", true],
    ["*", "", true],
    ["é*", "éa", true],
  ];
  for (const [glob, s, want] of cases) t.equal(globToRegExp(glob).test(s), want, `${JSON.stringify(s)} like ${JSON.stringify(glob)}`);
});

t.test("regexes compile with the u flag, failures give a reason", async (t) => {
  t.ok(compileRegex("^web-[0-9]+$") instanceof RegExp);
  for (const bad of ["(a", "a{", "\\-", "[z-a]"]) {
    const r = compileRegex(bad);
    t.notOk(r instanceof RegExp, `${bad} is rejected`);
    if (!(r instanceof RegExp)) t.notMatch(r.error, /Invalid regular expression: \//, "the reason, without the V8 preamble");
  }
});

t.test("durations and times", async (t) => {
  t.equal(formatDuration(5_400_000), "1h30m");
  t.equal(formatDuration(0), "0s");
  t.equal(formatDuration(1500), "1s500ms");
  t.equal(formatDuration(14 * 86_400_000 + 1000), "2w1s");
  t.equal(String(new DurationValue(90_000)), "1m30s");
  t.equal(parseRfc3339("2026-03-10T10:00:00Z"), Date.UTC(2026, 2, 10, 10));
  t.equal(parseRfc3339("2026-03-10T12:00:00.5+02:00"), Date.UTC(2026, 2, 10, 10, 0, 0, 500));
  for (const bad of ["2026-03-10", "2026-13-10T10:00:00Z", "yesterday", "2026-03-10T10:00:00"]) t.equal(parseRfc3339(bad), undefined, bad);
  t.equal(displayValue(["a", 1, new DurationValue(60_000), ip("10.0.0.0/8"), { k: true }]), '["a", 1, 1m, ip("10.0.0.0/8"), { k: true }]');
});
