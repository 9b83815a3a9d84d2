/**
 * Schemas: declarations (SP2006, SP2007, SP2008, duplicate kind SP2021), the
 * compiled validators handed to the evaluator, and attribute paths walked
 * through the schema (SP2009 with did-you-mean, SP2010 literal vs type).
 * Fixtures: test/fixtures/schemas/.
 */
import t from "tap";
import path from "node:path";
import { checkText, fixtures, runCases, where } from "./helpers.js";

/** A policy file placed in the fixtures folder, so relative schema paths resolve there. */
const inFixtures = (text: string) => ({ [path.join(fixtures, "t.policy")]: text });

runCases(t, [
  {
    name: "SP2006 unknown schema kind, with a did-you-mean",
    text: inFixtures(`schema evnt "event.schema.json"\nschema request "access.schema.json"\n`),
    want: [
      { at: "SP2006@1:8-1:12", message: "unknown schema kind `evnt`", hint: "did you mean `event`?" },
      { at: "SP2006@2:8-2:15", hint: "schema kinds are access, encryption, mesh, event" },
    ],
  },
  {
    name: "SP2007 missing file, SP2007 not JSON, SP2008 not a valid schema",
    text: inFixtures(`schema access "nope.json"\nschema mesh "not-json.schema.json"\nschema event "invalid.schema.json"\n`),
    want: [
      { at: "SP2007@1:15-1:26", message: "cannot read schema `nope.json`: no such file" },
      { at: "SP2007@2:13-2:35", message: "not JSON" },
      { at: "SP2008@3:14-3:35", message: "invalid JSON Schema `invalid.schema.json`" },
    ],
  },
  {
    name: "SP2021 a second, different schema for a kind; the same path twice is fine",
    text: {
      [path.join(fixtures, "a.policy")]: `schema access "access.schema.json"\n`,
      [path.join(fixtures, "b.policy")]: `schema access "./access.schema.json"\nschema access "other-access.schema.json"\n`,
    },
    want: [{ at: "SP2021@2:15-2:41", message: "duplicate schema `access`", hint: "already access.schema.json" }],
  },
  {
    name: "SP2009 a property closed out by additionalProperties: false, with did-you-mean",
    text: inFixtures(
      `schema access "access.schema.json"\n` +
        `allow "a" {\n  when principal.rols contains "ops"\n  when context.device.compliant and context.devise.x\n  when resource["typ"] == "node"\n}\n`,
    ),
    want: [
      { at: "SP2009@3:18-3:22", message: "`principal.rols` is not allowed by the access schema", hint: "did you mean `roles`?" },
      { at: "SP2009@4:45-4:51", message: "`context.devise`", hint: "did you mean `device`?" },
      { at: "SP2009@5:17-5:22", message: "`resource.typ`", hint: "did you mean `type`?" },
    ],
  },
  {
    name: "SP2009 through $ref, into a string, into items, after `has`; open objects and anyOf are permissive",
    text: inFixtures(
      `schema access "access.schema.json"\n` +
        `allow "a" {\n  when principal.clearence > 2\n  when resource.type.name == "x"\n  when context has geo\n` +
        `  when resource.labels.anything == "x" and resource.extra.whatever == 1 and context.hops[2] > 1\n}\n`,
    ),
    want: [
      { at: "SP2009@3:18-3:27", hint: "did you mean `clearance`?" },
      { at: "SP2009@4:22-4:26", message: "`resource.type.name`", hint: "`resource.type` is string in the schema" },
      { at: "SP2009@5:20-5:23", message: "`context.geo`", hint: "allowed here: source_ip, device, mfa, hops" },
    ],
  },
  {
    name: "SP2009 a root that is not in the input object (schema without it)",
    text: inFixtures(`schema mesh "mesh.schema.json"\nmesh "m" {\n  network "10.0.0.0/8"\n  when node.tag contains "x"\n  require key_age within 30d\n}\n`),
    want: [
      { at: "SP2009@4:13-4:16", message: "`node.tag` is not allowed by the mesh schema", hint: "did you mean `tags`?" },
      { at: "SP2009@5:3-5:29", message: "`node.key_created_at`", hint: "this clause reads `node.key_created_at`" },
    ],
  },
  {
    name: "SP2010 a literal compared with an attribute of another schema type",
    text: inFixtures(
      `schema access "access.schema.json"\nconst roles = ["ops", 7]\n` +
        `allow "a" {\n  when resource.type == 5\n  when "3" < principal.clearance\n  when principal.roles contains true\n` +
        `  when action in ["read", 15m]\n  when principal.roles contains_any roles\n  when context.hops[0] == 1 and context.hops[1] == "x"\n` +
        `  when principal.department == "x" and resource.env == "prod" and context.source_ip in ip("10.0.0.0/8")\n}\n`,
    ),
    want: [
      { at: "SP2010@4:25-4:26", message: "`resource.type` is string in the access schema, compared with number 5", hint: 'did you mean `"5"`?' },
      { at: "SP2010@5:8-5:11", message: "`principal.clearance` is integer in the access schema, compared with string \"3\"", hint: "did you mean `3`?" },
      { at: "SP2010@6:33-6:37", message: "`principal.roles[...]` is string" },
      { at: "SP2010@7:27-7:30", message: "compared with duration 15m" },
      { at: "SP2010@8:37-8:42", message: "compared with number 7" },
      { at: "SP2010@9:27-9:28", message: "`context.hops[0]` is string" },
      { at: "SP2010@9:52-9:55", message: "`context.hops[1]` is number" },
    ],
  },
  {
    name: "event schema applies to detect field paths from the event root",
    text: inFixtures(
      `schema event "event.schema.json"\nconst user_limit = 5\n` +
        `detect "d" {\n  severity low\n  where event.acton == "login" and user.name == 1 and source.anything == 1 and now > "2026-01-01T00:00:00Z"\n` +
        `  by user.nme within 5m\n  having count >= user_limit\n}\n`,
    ),
    want: [
      { at: "SP2009@5:15-5:20", message: "`event.acton` is not allowed by the event schema", hint: "did you mean `action`?" },
      { at: "SP2010@5:49-5:50", message: "`user.name` is string in the event schema" },
      { at: "SP2009@6:11-6:14", hint: "did you mean `name`?" },
    ],
  },
  {
    name: "no schema for a kind: nothing is checked",
    text: inFixtures(`schema access "access.schema.json"\nencryption "e" {\n  when data.anything.at.all == 5\n}\n`),
    want: [],
  },
]);

t.test("the compiled schema is returned for the evaluator", async (t) => {
  const r = checkText(inFixtures(`schema access "access.schema.json"\nschema event "event.schema.json"\n`), { lint: false });
  t.same(r.diagnostics.map(where), []);
  t.same([...r.schemas.keys()].sort(), ["access", "event"]);
  const access = r.schemas.get("access")!;
  t.equal(access.path, path.join(fixtures, "access.schema.json"));
  t.equal(access.validate({ principal: { id: "a" }, action: "read" }), true);
  t.equal(access.validate({ principal: { id: "a", rols: [] } }), false, "additionalProperties: false is enforced");
  t.equal(access.validate({ time: "not a time" }), false, "formats are on (ajv-formats)");
});

t.test("readFile is used for schema files, and its failure is SP2007", async (t) => {
  const seen: string[] = [];
  const r = checkText({ "/policies/x.policy": `schema access "s/a.json"\nschema event "s/e.json"\n` }, {
    lint: false,
    readFile: (p) => {
      seen.push(p);
      if (p.endsWith("e.json")) throw Object.assign(new Error("EACCES"), { code: "EACCES" });
      return `{ "type": "object" }`;
    },
  });
  t.same(seen, ["/policies/s/a.json", "/policies/s/e.json"]);
  t.same(r.diagnostics.map((d) => `${where(d)} ${d.message}`), ["SP2007@2:14-2:24 cannot read schema `s/e.json`: permission denied"]);
});
