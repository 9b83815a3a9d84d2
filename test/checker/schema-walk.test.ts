/**
 * Attribute paths walked through the schema the way ajv reads it
 * (checker/schema-walk.ts): `$ref`s resolve against the nearest `$id`, a
 * `false` schema allows nothing, `unevaluatedProperties` closes an object
 * like `additionalProperties`, a union type that has no object has no
 * properties, and `enum`/`const` say which values an attribute takes. Each
 * case also shows that ajv agrees, so the checker and the runtime
 * validation never disagree about what an input may hold.
 */
import t from "tap";
import { checkText, where } from "./helpers.js";
import { walkSchema } from "../../src/checker/schema-walk.js";

function withSchema(schema: object, policy: string) {
  const r = checkText({ "/p/t.policy": `schema access "s.json"\n${policy}` }, { lint: false, readFile: () => JSON.stringify(schema) });
  return { r, diags: r.diagnostics.map((d) => `${where(d)} ${d.message}${d.hint ? ` (${d.hint})` : ""}`), validate: r.schemas.get("access")?.validate };
}
const closed = (properties: object) => ({ type: "object", properties, additionalProperties: false });

t.test("a $ref resolves against the nearest $id, as ajv resolves it", async (t) => {
  const schema = {
    $id: "https://x.example/root.json",
    ...closed({
      principal: { $id: "https://x.example/principal.json", $defs: { u: closed({ b: { type: "number" } }) }, ...closed({ q: { $ref: "#/$defs/u" } }) },
      action: {},
      resource: {},
    }),
    $defs: { u: closed({ a: { type: "string" } }) },
  };
  const ok = withSchema(schema, `allow "r" { when principal.q.b == 1 }\n`);
  t.same(ok.diags, [], "b is what the principal's own $defs/u allows");
  t.equal(ok.validate!({ principal: { q: { b: 1 } }, action: "x", resource: {} }), true);
  const bad = withSchema(schema, `allow "r" { when principal.q.a == "x" }\n`);
  t.same(bad.diags, ["SP2009@2:30-2:31 `principal.q.a` is not allowed by the access schema (did you mean `b`?)"]);
  t.equal(bad.validate!({ principal: { q: { a: "x" } }, action: "x", resource: {} }), false);
});

t.test("a property whose schema is false is not allowed, nor an item past prefixItems when items is false", async (t) => {
  const schema = closed({
    principal: { type: "object", properties: { id: { type: "string" }, password: false }, additionalProperties: { type: "string" } },
    action: {},
    resource: {},
    context: closed({ pair: { type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false } }),
  });
  const { diags, validate } = withSchema(
    schema,
    `allow "r" {\n  when principal.password == "x"\n  when context.pair[1] == 2 and context.pair[2] == 3\n  when principal has password\n  when principal.other == "y"\n}\n`,
  );
  t.same(diags, [
    "SP2009@3:18-3:26 `principal.password` is not allowed by the access schema",
    "SP2009@4:46-4:47 `context.pair[2]` is not allowed by the access schema",
    "SP2009@5:22-5:30 `principal.password` is not allowed by the access schema",
  ]);
  t.equal(validate!({ principal: { password: "x" }, action: "x", resource: {} }), false);
  t.equal(validate!({ principal: {}, action: "x", resource: {}, context: { pair: ["a", 1, 2] } }), false);
});

t.test("unevaluatedProperties closes an object like additionalProperties", async (t) => {
  const schema = closed({
    principal: { type: "object", properties: { roles: { type: "array" } }, unevaluatedProperties: false },
    action: {},
    resource: { type: "object", properties: { id: {} }, unevaluatedProperties: { type: "string" } },
  });
  const { diags, validate } = withSchema(schema, `allow "r" {\n  when principal.rols contains "ops"\n  when resource.owner == 3\n}\n`);
  t.same(diags, [
    "SP2009@3:18-3:22 `principal.rols` is not allowed by the access schema (did you mean `roles`?)",
    'SP2010@4:26-4:27 `resource.owner` is string in the access schema, compared with number 3 (did you mean `"3"`?)',
  ]);
  t.equal(validate!({ principal: { rols: [] }, action: "x", resource: {} }), false);
  t.equal(validate!({ principal: {}, action: "x", resource: { owner: 3 } }), false);
});

t.test("a union type without object has no properties; without array, no items", async (t) => {
  const schema = closed({
    principal: closed({ name: { type: ["string", "null"] }, tags: { type: ["object", "null"] } }),
    action: {},
    resource: {},
  });
  const { diags } = withSchema(schema, `allow "r" {\n  when principal.name.first == "a"\n  when principal.name[0] == "a"\n  when principal.tags.x == "a"\n}\n`);
  t.same(diags, [
    "SP2009@3:23-3:28 `principal.name.first` is not allowed by the access schema (`principal.name` is string or null in the schema)",
    "SP2009@4:23-4:24 `principal.name[0]` is not allowed by the access schema (`principal.name` is string or null in the schema)",
  ]);
});

t.test("enum and const: a value the schema never allows, compared with == != in contains, is SP2010", async (t) => {
  const schema = closed({
    principal: closed({ type: { enum: ["human", "service"] }, level: { enum: [1, 2, 3] }, roles: { type: "array", items: { enum: ["ops", "dev"] } }, org: { const: "acme" } }),
    action: { enum: ["node.read", "node.restart"] },
    resource: closed({ env: { type: "string", enum: ["prod", "staging", "dev"] } }),
  });
  const { diags } = withSchema(
    schema,
    `allow "r" {\n` +
      `  when resource.env == "production" or resource.env != "prd" or resource.env == 5\n` +
      `  when action in ["node.reboot", "node.halt"] and principal.roles contains "sre" and "opz" in principal.roles\n` +
      `  when principal.level == 4 or principal.level >= 2 or principal.type == "human" or principal.org == "acme" or principal.org == "acm"\n` +
      `}\n`,
  );
  t.same(diags, [
    'SP2010@3:24-3:36 `resource.env` is one of "prod", "staging", "dev" in the access schema, compared with string "production"',
    'SP2010@3:56-3:61 `resource.env` is one of "prod", "staging", "dev" in the access schema, compared with string "prd" (did you mean `prod`?)',
    'SP2010@3:81-3:82 `resource.env` is one of "prod", "staging", "dev" in the access schema, compared with number 5 (the schema says `resource.env` is one of "prod", "staging", "dev")',
    'SP2010@4:19-4:32 `action` is one of "node.read", "node.restart" in the access schema, compared with string "node.reboot"',
    'SP2010@4:76-4:81 `principal.roles[...]` is one of "ops", "dev" in the access schema, compared with string "sre"',
    'SP2010@4:86-4:91 `principal.roles[...]` is one of "ops", "dev" in the access schema, compared with string "opz" (did you mean `ops`?)',
    'SP2010@5:27-5:28 `principal.level` is one of 1, 2, 3 in the access schema, compared with number 4',
    'SP2010@5:129-5:134 `principal.org` is always "acme" in the access schema, compared with string "acm" (did you mean `acme`?)',
  ]);
  // `in` and contains_any hold when one item matches: a list naming values beyond the enum is fine while one
  // can match; contains_all needs every item, so one outside the enum is always false.
  t.same(withSchema(schema, `allow "r" {\n  when action in ["node.read", "node.reboot"] or principal.roles contains_any ["ops", "sre"]\n}\n`).diags, []);
  t.same(withSchema(schema, `allow "r" {\n  when principal.roles contains_all ["ops", "sre"] or principal.roles contains_any ["qa", "sre"]\n}\n`).diags, [
    'SP2010@3:45-3:50 `principal.roles[...]` is one of "ops", "dev" in the access schema, compared with string "sre"',
    'SP2010@3:85-3:89 `principal.roles[...]` is one of "ops", "dev" in the access schema, compared with string "qa"',
  ]);
  t.same(withSchema(schema, `allow "r" { when principal.type.x == 1 }\n`).diags, [
    "SP2009@2:33-2:34 `principal.type.x` is not allowed by the access schema (`principal.type` is string in the schema)",
  ]);
});

t.test("recursive schemas: a self-referencing $ref is walked as deep as the path; a $ref cycle ends", async (t) => {
  const person = { type: "object", properties: { name: { type: "string" }, manager: { $ref: "#/$defs/person" } }, additionalProperties: false };
  const tree = { $defs: { person }, ...closed({ principal: { $ref: "#/$defs/person" }, action: {}, resource: {} }) };
  t.same(withSchema(tree, `allow "r" { when principal.manager.manager.manager.nme == "x" }\n`).diags, [
    "SP2009@2:52-2:55 `principal.manager.manager.manager.nme` is not allowed by the access schema (did you mean `name`?)",
  ]);
  const cycle = { $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, ...closed({ principal: { $ref: "#/$defs/a" }, action: {}, resource: {} }) };
  const r = withSchema(cycle, `allow "r" { when principal.x == 1 }\n`);
  t.same(r.r.failures, []);
  t.same(r.diags, ["SP2008@1:15-1:23 invalid JSON Schema `s.json`: too deeply nested, or a `$ref` cycle"]);
});

t.test("anyOf, oneOf, allOf: a path no branch allows (anyOf, oneOf) or some branch refuses (allOf) is SP2009", async (t) => {
  const person = closed({ name: { type: "string" } });
  const schema = {
    $defs: { person },
    ...closed({
      principal: closed({
        manager: { anyOf: [{ $ref: "#/$defs/person" }, { type: "null" }] },
        deputy: { oneOf: [{ $ref: "#/$defs/person" }, { type: "object", properties: { nick: {} } }] },
        badge: { allOf: [{ type: "object" }, closed({ serial: { type: "string" } })] },
      }),
      action: {},
      resource: {},
    }),
  };
  const { diags, validate } = withSchema(
    schema,
    `allow "r" {\n  when principal.manager.nme == "x" and principal.manager.name == "y"\n  when principal.deputy.anything == 1\n  when principal.badge.serail == "s" and principal.badge.serial == "t"\n}\n`,
  );
  t.same(diags, [
    "SP2009@3:26-3:29 `principal.manager.nme` is not allowed by the access schema (did you mean `name`?)",
    "SP2009@5:24-5:30 `principal.badge.serail` is not allowed by the access schema (did you mean `serial`?)",
  ]);
  t.equal(validate!({ principal: { manager: { nme: "x" } }, action: "a", resource: {} }), false);
  t.equal(validate!({ principal: { manager: null, deputy: { anything: 1 }, badge: { serial: "t" } }, action: "a", resource: {} }), true);
});

t.test("a combinator that refers to itself ends without a claim", async (t) => {
  const root = { $defs: { a: { anyOf: [{ $ref: "#/$defs/a" }, { allOf: [{ $ref: "#/$defs/a" }, { $ref: "#/$defs/a" }] }] } }, $ref: "#/$defs/a" };
  const seg = (name: string) => ({ kind: "prop" as const, name, span: { file: "t", start: 0, end: 0 } as never });
  t.same(walkSchema(root, [seg("principal"), seg("x")]), { kind: "stop" });
});
