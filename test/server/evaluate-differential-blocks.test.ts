/**
 * The encryption and mesh spec differential
 * (test/evaluator/spec-differential-blocks.test.ts) over HTTP and across
 * files: generated encryption files of three packages (the one `default`
 * in any of them) and mesh files of two packages (so a mesh name may be
 * shared, and only an id names one), served by `serve` and loaded in path
 * order; generated inputs sent as the JSON text a client writes through
 * POST /v1/evaluate/batch and /v1/evaluate. Every answer must be the
 * in-process result for JSON.parse of the same text, byte for byte after
 * serialization, and agree with the spec references: `rules` in load order
 * across files with `default` last, the merge across packages, the choice
 * of mesh by name or id.
 *
 * SPEC_DIFF_SEED (default fixed, printed) and SPEC_DIFF_HTTP_REQUESTS
 * (default 300 of each kind) tune it.
 */
import t from "tap";
import { analyze, loadPolicies, MemoryRiskStore, SourceText } from "../../src/index.js";
import { prng } from "../support/prng.js";
import type { RefStore } from "../support/spec-reference.js";
import { comparableEncryption, decideEncryptionRef, type EncPolicy } from "../support/spec-reference-encryption.js";
import { comparableMesh, decideMeshRef, type MeshPolicy } from "../support/spec-reference-mesh.js";
import { CLOCK, Rand } from "../support/spec-policy-gen.js";
import { groupCiphers, randomEncryptionInput, randomEncryptionPolicy, randomMeshInput, randomMeshPolicy } from "../support/spec-block-gen.js";
import { call, policyDir, start } from "./harness.js";

const SEED = Number(process.env["SPEC_DIFF_SEED"] ?? 0x5bec0de);
const REQUESTS = Number(process.env["SPEC_DIFF_HTTP_REQUESTS"] ?? 300);
/** The server's risk store starts empty; so does the reference's. */
const EMPTY: RefStore = { raises: [], quarantines: [] };

/** Files that load together without errors, and the references' view of them (rules in path order). */
function generatedSet(g: Rand): { files: Record<string, string>; enc: EncPolicy; mesh: MeshPolicy } {
  for (;;) {
    const files: Record<string, string> = {};
    const enc: EncPolicy = { consts: new Map(), rules: [] };
    const mesh: MeshPolicy = { consts: new Map(), meshes: [] };
    const groupCipher = g.chance(0.5) ? groupCiphers(g) : groupCiphers(g).map((_, __, a) => a[0]!);
    const holder = g.int(4); // 3: no default anywhere
    for (let i = 0; i < 3; i++) {
      const f = randomEncryptionPolicy(g, { pkg: `e${i}`, mayHoldDefault: i === holder, groupCipher });
      files[`e${i}.policy`] = f.text;
      for (const [k, v] of f.policy.consts) enc.consts.set(k, v);
      enc.rules.push(...f.policy.rules);
    }
    for (let i = 0; i < 2; i++) {
      const f = randomMeshPolicy(g, { pkg: `m${i}`, admissive: true });
      files[`m${i}.policy`] = f.text;
      for (const [k, v] of f.policy.consts) mesh.consts.set(k, v);
      mesh.meshes.push(...f.policy.meshes);
    }
    const r = analyze(Object.entries(files).map(([name, text]) => new SourceText(name, text)));
    if (!r.diagnostics.some((d) => d.severity === "error")) return { files, enc, mesh };
  }
}

t.test(`served encryption and mesh results are the library's and the spec references' (SPEC_DIFF_SEED=${SEED})`, async (t) => {
  const g = new Rand(prng(SEED + 3));
  const { files, enc, mesh } = generatedSet(g);
  const dir = policyDir(t, files);
  const engine = await loadPolicies([dir], { clock: () => CLOCK, risk: new MemoryRiskStore() });
  t.same(engine.diagnostics.filter((d) => d.severity === "error"), [], "the generated set loads");
  const { url } = await start(t, [dir], { clock: () => CLOCK });

  const ids = mesh.meshes.map((m) => m.id);
  const texts = Array.from({ length: REQUESTS * 2 }, (_, i) => (i % 2 === 0 ? randomEncryptionInput(g) : randomMeshInput(g, ids)));
  const want = (text: string) => JSON.parse(JSON.stringify(engine.evaluate(JSON.parse(text)))) as unknown;
  const batch = await call(url, "/v1/evaluate/batch", { body: `{"inputs":[${texts.join(",")}]}`, headers: { "content-type": "application/json" } });
  t.equal(batch.status, 200, "the batch is answered");
  let differs = 0;
  texts.forEach((text, i) => {
    const got = batch.json.decisions[i];
    if (JSON.stringify(got) !== JSON.stringify(want(text)) && differs++ < 3) t.same(got, want(text), `batch item ${i} differs from evaluate() (SPEC_DIFF_SEED=${SEED})\n${text}`);
  });
  for (const [i, text] of texts.entries()) {
    if (i % 5 !== 0) continue;
    const r = await call(url, "/v1/evaluate", { body: text, headers: { "content-type": "application/json" } });
    if ((r.status !== 200 || JSON.stringify(r.json) !== JSON.stringify(want(text))) && differs++ < 3) {
      t.same({ status: r.status, body: r.json }, { status: 200, body: want(text) }, `request ${i} differs from evaluate() (SPEC_DIFF_SEED=${SEED})\n${text}`);
    }
  }
  t.equal(differs, 0, `${texts.length} served results equal evaluate()'s`);

  let mismatches = 0;
  const seen = new Set<string>();
  for (const [i, text] of texts.entries()) {
    const input = JSON.parse(text) as unknown;
    const d = batch.json.decisions[i];
    const [got, ref] = i % 2 === 0 ? [comparableEncryption(d), decideEncryptionRef(enc, input, CLOCK, EMPTY)] : [comparableMesh(d), decideMeshRef(mesh, input, CLOCK, EMPTY)];
    if (JSON.stringify(got) !== JSON.stringify(ref) && mismatches++ < 3) t.same(got, ref, `differs from the spec reference (SPEC_DIFF_SEED=${SEED})\n--- files\n${Object.values(files).join("")}--- input\n${text}`);
    if ("decision" in ref) seen.add(ref.decision);
    else if (ref.rules.length > 1) seen.add(ref.rules.some((r) => r.endsWith("/default")) ? "several rules and the default" : "several rules");
  }
  t.equal(mismatches, 0, "the served set decides as the spec references do");
  t.ok(seen.has("admit") && seen.has("reject") && (seen.has("several rules") || seen.has("several rules and the default")), `the inputs reach the outcomes that matter (${[...seen].join(", ")})`);
});
