/**
 * evaluateBatch gives the same answers as one by one, in order, over a mix
 * of access, encryption, mesh and bad inputs.
 */
import t from "tap";
import { parse } from "../../src/parser/parse.js";
import { compilePolicySet } from "../../src/evaluator/compile.js";
import { Evaluator } from "../../src/evaluator/evaluate.js";
import { Gen, prng, randomInput, randomPolicy } from "./random-policy.js";

t.test("batch equals one by one", async (t) => {
  const g = new Gen(prng(20260101));
  for (let p = 0; p < 30; p++) {
    const text =
      randomPolicy(g) +
      `encryption default { require cipher "aes-256-gcm" }\nmesh "m" {\n  network "10.0.0.0/8"\n  when node.tags contains "w"\n}\n`;
    const ev = new Evaluator(compilePolicySet([parse(text, "b.policy").ast]), { version: "v", clock: () => 1767225600000 });
    const inputs: unknown[] = [];
    for (let i = 0; i < 20; i++) inputs.push(randomInput(g));
    inputs.push({ kind: "encryption", data: {} }, { kind: "mesh", node: { id: "a", public_key: "x", tags: ["w"] } }, null, 42, [], { kind: "nope" });
    const batch = ev.evaluateBatch(inputs);
    t.equal(batch.length, inputs.length);
    const single = inputs.map((i) => ev.evaluate(i));
    t.same(batch, single, `policy ${p}`);
    t.same(ev.evaluateBatch(inputs, { explain: true }), inputs.map((i) => ev.evaluate(i, { explain: true })));
  }
});
