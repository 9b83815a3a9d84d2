/**
 * The guard in front of a converted `cidr` test (src/import/sigma/ip-pattern.ts)
 * must accept exactly the strings the evaluator reads as an address: a looser
 * pattern lets the evaluation error back in, a stricter one misses addresses.
 * Checked against the evaluator's own reader on chosen and random strings,
 * then through a converted rule whose filter is a cidr test.
 */
import t from "tap";
import { asIp } from "../../../src/evaluator/operators.js";
import { IP_TEXT_PATTERN } from "../../../src/import/sigma/ip-pattern.js";
import { convert, fires, rule } from "./helpers.js";

const re = new RegExp(IP_TEXT_PATTERN, "u");
const agrees = (s: string) => re.test(s) === (asIp(s) !== null);

t.test("chosen strings: the pattern and the evaluator agree", async (t) => {
  const yes = [
    "0.0.0.0", "10.0.0.1", "255.255.255.255", "192.168.1.5", "::", "::1", "1::", "fe80::1", "FD00::ABCD", "2001:db8::8a2e:370:7334",
    "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "::ffff:10.0.0.1", "::1.2.3.4", "1::1.2.3.4", "1:2:3:4:5::1.2.3.4", "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8", "1:2:3::6:7:8", "0000:0000::ffff",
  ];
  const no = [
    "", "-", "localhost", "10.0.0", "10.0.0.1.", "010.0.0.1", "256.0.0.1", "10.0.0.1/8", "10.0.0.0/8", " 10.0.0.1", "10.0.0.1 ",
    ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::8", "12345::", "fe80::1%eth0", "::1/128",
    "1:2:3:4:5:6:7:1.2.3.4", "1.2.3.4::", "::1.2.3", "g::1", "1:2:3:4:5:6::1.2.3.4", "\n10.0.0.1", "10.0.0.1\n",
  ];
  for (const s of yes) t.ok(re.test(s) && asIp(s) !== null, `accepted: ${JSON.stringify(s)}`);
  for (const s of no) t.ok(!re.test(s) && asIp(s) === null, `refused: ${JSON.stringify(s)}`);
});

t.test("random strings over the address alphabet: the pattern and the evaluator agree", async (t) => {
  // A fixed linear congruential generator: the run is the same every time.
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pieces = ["0", "1", "9", "25", "255", "256", "01", "a", "F", "ffff", "12345", ":", "::", ".", "/", "%", "1.2.3.4", "x"];
  let disagree = 0;
  const seen: string[] = [];
  for (let i = 0; i < 20000; i++) {
    let s = "";
    const n = 1 + next(12);
    for (let k = 0; k < n; k++) s += pieces[next(pieces.length)];
    if (!agrees(s)) {
      disagree++;
      if (seen.length < 5) seen.push(s);
    }
  }
  t.equal(disagree, 0, `disagreements, e.g. ${JSON.stringify(seen)}`);
});

t.test("a cidr filter on a value that is not an address is false, not an error that stops the rule", async (t) => {
  // proxy logs write `-` or a host name where no address was resolved
  const r = convert(rule("  sel:\n    method: GET\n  filter:\n    dst_ip|cidr: ['10.0.0.0/8', 'fc00::/7']\n  condition: sel and not filter"));
  t.same(r.problems, []);
  t.ok(fires(r.policy, { method: "GET", dst_ip: "-" }), "dst_ip `-`");
  t.ok(fires(r.policy, { method: "GET", dst_ip: "example.com" }), "a host name");
  t.ok(fires(r.policy, { method: "GET", dst_ip: "10.0.0.0/8" }), "a range is not an address");
  t.ok(fires(r.policy, { method: "GET", dst_ip: "8.8.8.8" }), "an outside address");
  t.ok(fires(r.policy, { method: "GET" }), "no dst_ip");
  t.notOk(fires(r.policy, { method: "GET", dst_ip: "10.1.2.3" }), "inside 10/8");
  t.notOk(fires(r.policy, { method: "GET", dst_ip: "FD12::1" }), "inside fc00::/7");
  t.notOk(fires(r.policy, { method: "GET", dst_ip: "::ffff:10.9.9.9" }), "IPv4-mapped, inside 10/8");
});
