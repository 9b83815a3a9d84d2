/**
 * Options of the public API with a name they do not know are a TypeError.
 * JavaScript callers (and configs spread into options) get no excess-property
 * check from TypeScript: `loadPolicies(p, { riskStore })` built an engine over
 * an empty store of its own, and a quarantined principal was allowed.
 */
import t from "tap";
import { compile, loadPolicies, MemoryRiskStore, MfaVerifier, type DetectorOptions, type EngineOptions, type TotpSecretSource } from "../../src/index.js";

const POLICY = `package guard
allow "read" {
  when action == "read"
}
deny "quarantined" {
  when quarantined(principal.id)
}
detect "any" {
  severity low
  where event.action == "x"
  then quarantine user.name for 1h
}
`;

const NOW = Date.parse("2026-03-10T10:00:00Z");
const INPUT = { principal: { id: "mallory" }, action: "read", resource: {}, context: {}, time: "2026-03-10T10:00:00Z" };

/** Options as a JavaScript caller writes them: no type to check the names against. */
const untyped = (o: object) => o as EngineOptions;

t.test("the engine reads the risk store it is given", async (t) => {
  const shared = new MemoryRiskStore();
  shared.quarantine("mallory", NOW);
  const engine = compile(POLICY, { risk: shared });
  t.equal((engine.evaluate(INPUT) as { decision: string }).decision, "deny");
});

t.test("compile refuses an option it does not know, rather than use an empty store", async (t) => {
  const shared = new MemoryRiskStore();
  shared.quarantine("mallory", NOW);
  t.throws(() => compile(POLICY, untyped({ riskStore: shared })), { name: "TypeError", message: /compile: unknown option `riskStore` \(known: clock, risk, /u });
  t.throws(() => compile(POLICY, untyped({ file: "a.policy", valdiateInput: false })), { name: "TypeError", message: /unknown option `valdiateInput`/u });
  t.throws(() => compile(POLICY, "strict" as unknown as EngineOptions), { name: "TypeError", message: /options must be an object/u });
  t.doesNotThrow(() => compile(POLICY, { file: "a.policy", clock: () => NOW, risk: shared, validateInput: true, lint: true, generate: false, notApplied: false }));
});

t.test("loadPolicies rejects an option it does not know", async (t) => {
  const dir = t.testdir({ "guard.policy": POLICY });
  await t.rejects(loadPolicies(dir, untyped({ store: new MemoryRiskStore() })), { name: "TypeError", message: /loadPolicies: unknown option `store`/u });
  const engine = await loadPolicies(dir, { risk: new MemoryRiskStore() });
  t.same(engine.loadErrors, []);
});

t.test("a detector refuses an option it does not know", async (t) => {
  const engine = compile(POLICY);
  t.throws(() => engine.detector(untyped({ riskStore: new MemoryRiskStore() }) as DetectorOptions), { name: "TypeError", message: /detector: unknown option `riskStore`/u });
  t.throws(() => engine.detector(untyped({ maxFutureMS: 1000 }) as DetectorOptions), { name: "TypeError", message: /unknown option `maxFutureMS`/u });
  const store = new MemoryRiskStore();
  const detector = engine.detector({ risk: store, maxFutureMs: 1000, clock: () => NOW, allowedLatenessMs: 0, maxGroupsPerRule: 10, maxEventsPerGroup: 10, onProblem: () => undefined, index: true });
  detector.push({ "@timestamp": "2026-03-10T10:00:00Z", event: { action: "x" }, user: { name: "eve" } });
  t.equal(store.quarantined("eve", NOW), true, "the given store is written");
});

t.test("MfaVerifier refuses a store it does not know, rather than keep used codes in memory", async (t) => {
  const secrets: TotpSecretSource = { secretFor: async () => null } as unknown as TotpSecretSource;
  t.throws(() => new MfaVerifier({ secrets, replayStore: {} } as unknown as ConstructorParameters<typeof MfaVerifier>[0]), {
    name: "TypeError",
    message: /MfaVerifier: unknown option `replayStore`/u,
  });
  t.throws(() => new MfaVerifier({ secrets, lockoutPolicy: { maxFailure: 3 } } as unknown as ConstructorParameters<typeof MfaVerifier>[0]), {
    name: "TypeError",
    message: /lockoutPolicy: unknown option `maxFailure`/u,
  });
  t.doesNotThrow(() => new MfaVerifier({ secrets, lockoutPolicy: { maxFailures: 3 }, clock: () => NOW }));
});
