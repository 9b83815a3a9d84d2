/**
 * The access workload and its translations (correctness only, no timing):
 * the reference loop reproduces the shipped expectations exactly, the
 * derived N = 10,000 set is what it claims to be, and our engine, fed the
 * `.policy` translation, gives the expected decision for every request.
 */
import t from "tap";
import { cloneName, cloneRequest, derivationOf, loadWorkload, SHIPPED_SIZES, type Expected } from "../../bench/workload.js";
import { decideReference } from "../../bench/peers/plain-loop.js";
import { createOursEngine, toPolicyRule, toPolicyText } from "../../bench/peers/swarm-policy.js";
import { verdictMismatch } from "../../bench/access.js";

for (const n of SHIPPED_SIZES) {
  t.test(`the reference loop reproduces every shipped expectation at N=${n}`, async (t) => {
    const w = loadWorkload(n);
    t.equal(w.policies.length, n);
    t.equal(w.requests.length, 1000);
    const bad: string[] = [];
    w.requests.forEach((r, i) => {
      const got = decideReference(w.policies, r);
      // Same decision and the same determining policies in the same (policy) order.
      if (JSON.stringify(got) !== JSON.stringify(w.expected[i])) bad.push(`${r.id}: ${JSON.stringify(got)} vs ${JSON.stringify(w.expected[i])}`);
    });
    t.same(bad, []);
    // The set is not trivial: both decisions occur, and forbids do decide some requests.
    t.ok(w.expected.some((e) => e.decision === "allow"));
    t.ok(w.expected.some((e) => e.decision === "deny" && e.reasons.some((id) => id.startsWith("forbid-"))));
  });
}

t.test("N=10,000 is the N=1,000 set cloned under new names, and its expectations follow", async (t) => {
  const base = loadWorkload(1000);
  const w = loadWorkload(10_000);
  const d = derivationOf(w)!;
  t.equal(w.policies.length, 10_000);
  t.equal(new Set(w.policies.map((p) => p.id)).size, 10_000, "ids are unique");
  t.same(
    w.policies.filter((p) => p.effect === "forbid"),
    base.policies.filter((p) => p.effect === "forbid"),
    "forbids unchanged",
  );
  t.equal(d.permitsPerCopy, 995);
  t.equal(d.copies, 11, "10 full copies of 995 permits and one of 45");

  // permit-1991 is permit-0001 in copy 2, with copy 2's names.
  const p1 = base.policies.find((p) => p.id === "permit-0001")!;
  const clone = w.policies.find((p) => p.id === "permit-1991")!;
  t.same(clone, { ...p1, id: "permit-1991", principalRole: `${p1.principalRole}-c2`, resourceType: `${p1.resourceType}-c2` });

  // In copy c, the cloned permits see a moved request exactly as the
  // originals see the original request: the N=10,000 expectation is the
  // shipped N=1,000 one with permit ids shifted into copy c (and, in the
  // partial last copy, only the permits that were cloned).
  const shift = (id: string, c: number): string | undefined => {
    if (!id.startsWith("permit-")) return id;
    const k = Number(id.slice("permit-".length)) + c * d.permitsPerCopy;
    return k <= 10_000 - 5 ? `permit-${String(k).padStart(4, "0")}` : undefined;
  };
  t.same(d.copyOf, w.requests.map((_, i) => i % 11), "request i moves into copy i mod 11");
  const bad: string[] = [];
  const allowedByCopy = new Set<number>();
  w.requests.forEach((r, i) => {
    const c = d.copyOf[i]!;
    const e1k = base.expected[i]!;
    let want: Expected;
    if (e1k.decision === "deny" && e1k.reasons.length > 0) want = e1k;
    else {
      const permits = e1k.reasons.map((id) => shift(id, c)).filter((id): id is string => id !== undefined);
      want = permits.length > 0 ? { decision: "allow", reasons: permits } : { decision: "deny", reasons: [] };
    }
    if (JSON.stringify(w.expected[i]) !== JSON.stringify(want)) bad.push(`${r.id}: ${JSON.stringify(w.expected[i])} vs ${JSON.stringify(want)}`);
    if (w.expected[i]!.decision === "allow") allowedByCopy.add(c);
  });
  t.same(bad, []);
  t.same([...allowedByCopy].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "every copy's permits grant some request");
});

t.test("a request moved into a copy keeps its roles and gains the copy's", async (t) => {
  const r = loadWorkload(10).requests[0]!;
  const moved = cloneRequest(r, 3);
  t.same(moved.principal.roles, [...r.principal.roles, ...r.principal.roles.map((x) => `${x}-c3`)]);
  t.equal(moved.resource.type, `${r.resource.type}-c3`);
  t.equal(cloneRequest(r, 0), r);
  t.equal(cloneName("data-eng", 0), "data-eng");
  t.equal(r.principal.roles.includes(`${r.principal.roles[0]}-c3`), false, "the original request is not changed");
});

t.test(".policy translation of a forbid and a permit", async (t) => {
  t.equal(
    toPolicyRule({
      id: "forbid-x",
      effect: "forbid",
      principalRole: "auditor",
      when: [{ attr: "resource.owner", op: "!=", ref: "principal.id" }],
      unless: [
        { attr: "action", op: "in", value: ["read", "list"] },
        { attr: "principal.department", op: "==", value: "security" },
      ],
    }),
    [
      'deny "forbid-x" {',
      '  when principal.roles contains "auditor" and resource.owner != principal.id',
      '  unless action in ["read", "list"]',
      '  unless principal.department == "security"',
      "}",
    ].join("\n"),
  );
  // Action and resource.type tests come first: the compiler's index reads them.
  t.equal(
    toPolicyRule({
      id: "permit-0001",
      effect: "permit",
      principalRole: "ops",
      actions: ["restart"],
      resourceType: "node",
      when: [
        { attr: "principal.clearance", op: ">=", value: 2 },
        { attr: "context.device_compliant", op: "==", value: true },
      ],
      unless: [],
    }),
    [
      'allow "permit-0001" {',
      '  when action == "restart" and resource.type == "node" and principal.roles contains "ops" and principal.clearance >= 2 and context.device_compliant == true',
      "}",
    ].join("\n"),
  );
  t.match(toPolicyText(loadWorkload(10).policies), /^package bench\n\ndeny "forbid-prod-delete-unless-admin" \{\n  when action in \["delete", "purge"\] and resource.env == "prod"\n/);
});

for (const n of SHIPPED_SIZES) {
  t.test(`our engine, fed the .policy translation, decides every request as expected at N=${n}`, async (t) => {
    const w = loadWorkload(n);
    const ours = createOursEngine(w.policies, `bench-${n}.policy`);
    t.same(ours.engine.diagnostics, [], "the translation loads without diagnostics");
    const bad: string[] = [];
    let allowed = 0;
    w.requests.forEach((r, i) => {
      const v = ours.read(ours.run(ours.prepare(r)));
      if (v.decision === "allow") allowed++;
      // Decision, the deciding rule, every determining rule (as a set), no errors.
      const why = verdictMismatch(v, w.expected[i]!);
      if (why !== undefined) bad.push(`${r.id}: ${why}`);
    });
    t.same(bad, []);
    t.equal(allowed, w.expected.filter((e) => e.decision === "allow").length);
  });
}
