/**
 * SecretKey never shows its bytes through JSON, inspect, console formatting
 * or string conversion; it copies its input and can be wiped.
 */
import t from "tap";
import { inspect, format } from "node:util";
import { SecretKey } from "../../../src/runtime/crypto/secret-key.js";

const BYTES = Uint8Array.from({ length: 32 }, (_, i) => 0xc0 + i);
const HEX = Buffer.from(BYTES).toString("hex");
const B64 = Buffer.from(BYTES).toString("base64");
const leaks = (s: string) => s.includes(HEX) || s.includes(B64) || /192,\s*193/.test(s) || /c0 c1/.test(s);

t.test("every printing path is redacted", async (t) => {
  const key = SecretKey.from(BYTES);
  const outputs = {
    json: JSON.stringify({ key }),
    inspect: inspect({ nested: { key } }, { depth: 10, showHidden: true }),
    format: format("%o %O %s %j", key, key, key, { key }),
    string: String(key),
    template: `${key}`,
    concat: "k=" + key,
  };
  for (const [how, out] of Object.entries(outputs)) {
    t.notOk(leaks(out), `${how} does not show the bytes`);
    t.match(out, /redacted/, `${how} says redacted`);
  }
});

t.test("from copies; exposeBytes returns the bytes; destroy wipes them", async (t) => {
  const input = Uint8Array.from(BYTES);
  const key = SecretKey.from(input);
  input.fill(0);
  t.same(key.exposeBytes(), BYTES, "caller wiping its buffer does not change the key");
  t.equal(key.length, 32);
  const view = key.exposeBytes();
  key.destroy();
  t.ok(view.every((b) => b === 0), "bytes zeroed");
  t.throws(() => key.exposeBytes(), /destroyed/);
});

t.test("generate: CSPRNG bytes of the asked length", async (t) => {
  const a = SecretKey.generate(), b = SecretKey.generate();
  t.equal(a.length, 32);
  t.notSame(a.exposeBytes(), b.exposeBytes());
  t.equal(SecretKey.generate(64).length, 64);
  t.throws(() => SecretKey.generate(0), RangeError);
  t.throws(() => SecretKey.generate(1.5), RangeError);
});
