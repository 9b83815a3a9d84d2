/**
 * Lint warnings (SP3001-SP3007), only when lint is on, and `# lint:ignore`
 * directives (SP3008 when they silence nothing).
 */
import t from "tap";
import { checkText, runCases, where } from "./helpers.js";

runCases(t, [
  {
    name: "SP3001 allow rule without when",
    lint: true,
    text: `allow "open" {\n  require mfa\n}\ndeny "d" {\n  unless action == "x"\n}\n`,
    want: [{ at: "SP3001@1:7-1:13", message: "allow rule `open` has no `when`", hint: "add a `when` clause" }],
  },
  {
    name: "SP3010 an allow rule whose every `when` is always true grants every request (SP3001 only saw a missing `when`)",
    lint: true,
    text:
      `const open = true\n` +
      `allow "a" {\n  when true\n}\n` +
      `allow "b" {\n  when open or principal.id == "x"\n  when 1 < 2\n  unless principal.blocked\n}\n` +
      `allow "c" {\n  when open\n  when action == "read"\n}\n` +
      `allow "d" {\n  when true\n  unless true\n}\n` +
      `deny "e" {\n  when true\n}\n`,
    want: [
      { at: "SP3010@3:8-3:12", message: "allow rule `a` applies to every request: its `when` is always true", hint: "narrow it" },
      { at: "SP3010@6:8-6:35", message: "allow rule `b`" },
      { at: "SP3002@16:10-16:14", message: "rule `d` can never apply" },
    ],
  },
  {
    name: "SP3002 a when that folds to false, an unless that folds to true, a where that folds to false",
    lint: true,
    text:
      `const enabled = false\n` +
      `deny "a" {\n  when action == "x" and enabled\n}\n` +
      `deny "b" {\n  when action == "y"\n  unless 1 < 2 or action == "z"\n}\n` +
      `detect "c" {\n  severity low\n  where false and event.action == "x"\n}\n` +
      `deny "ok" {\n  when enabled or action == "w"\n}\n`,
    want: [
      { at: "SP3002@3:8-3:33", message: "rule `a` can never apply: its `when` is always false" },
      { at: "SP3002@7:10-7:32", message: "its `unless` is always true" },
      { at: "SP3002@11:9-11:38", message: "its `where` is always false" },
    ],
  },
  {
    name: "SP3003 unused const; a const used only by another used const counts as used",
    lint: true,
    text: `const a = 1\nconst b = 2\nconst c = b + 1\ndeny "d" {\n  when principal.n == c\n}\n`,
    want: [{ at: "SP3003@1:7-1:8", message: "const `a` is never used" }],
  },
  {
    name: "SP3004 require mfa within more than 24h; exactly 24h is fine",
    lint: true,
    text: `allow "a" {\n  when action == "x"\n  require mfa within 25h\n}\nallow "b" {\n  when action == "y"\n  require mfa within 24h\n}\nallow "c" {\n  when action == "z"\n  require mfa within 1w\n}\n`,
    want: [
      { at: "SP3004@3:22-3:25", message: "`require mfa within 25h` is longer than 24h", hint: "older than a day" },
      { at: "SP3004@11:22-11:24", message: "within 1w" },
    ],
  },
  {
    name: "SP3009 a mesh network outside private space; private ones (and an invalid one, SP2023's) say nothing",
    lint: true,
    text:
      `mesh "a" {\n  network "0.0.0.0/0"\n  when node.attested\n}\n` +
      `mesh "b" {\n  network "8.8.0.0/16"\n  when node.attested\n}\n` +
      `mesh "c" {\n  network "100.64.0.0/10"\n  when node.attested\n}\n` +
      `mesh "d" {\n  network "10.1.0.0/16"\n  when node.attested\n}\n` +
      `mesh "e" {\n  network "172.32.0.0/16"\n  when node.attested\n}\n` +
      `mesh "f" {\n  network "fd12:3456::/48"\n  when node.attested\n}\n` +
      `mesh "g" {\n  network "100.0.0.0/8"\n  when node.attested\n}\n`,
    want: [
      { at: "SP3009@2:11-2:22", message: "mesh `a` network 0.0.0.0/0 is not private address space", hint: "100.64.0.0/10" },
      { at: "SP3009@6:11-6:23", message: "mesh `b` network 8.8.0.0/16" },
      { at: "SP3009@18:11-18:26", message: "mesh `e` network 172.32.0.0/16" },
      { at: "SP3009@26:11-26:24", message: "mesh `g` network 100.0.0.0/8" },
    ],
  },
  {
    // Raw, "root\u200b" reads as "root" (the deny rule never matches root), and a bidi override
    // reorders the rest of the line as shown (Trojan Source); escapes and plain non-ASCII say nothing.
    name: "SP3012 characters written raw in strings and comments that do not show as themselves",
    lint: true,
    text:
      `deny "no-root" {\n  when principal.id == "root\u200b"\n}\n` +
      `# ok \u202e } \u2066 x\n` +
      `deny "b" {\n  when principal.id in ["a\u00a0b", "c\u2028d", "\\u200b", "Jos\u00e9", "\u{1F600}", "e\u0301"]\n}\n` +
      `# a comment may hold a zero\u200bwidth space, \u00e9 and \u{1F600}\n` +
      `deny "c" {\n  when principal.id == "tab\there" # a trailing comment \u2028 x\n}\n` +
      `# lint:ignore SP3012\ndeny "d" {\n  when principal.id == "\u202e"\n}\n`,
    want: [
      { at: "SP3012@2:29-2:30", message: "string holds `\\u200b` written raw: it does not show", hint: "write it as the escape `\\u200b`" },
      { at: "SP3012@4:6-4:7", message: "comment holds `\\u202e` written raw: a bidirectional control reorders", hint: "remove it" },
      { at: "SP3012@4:10-4:11", message: "comment holds `\\u2066`" },
      { at: "SP3012@6:27-6:28", message: "string holds `\\u00a0`" },
      { at: "SP3012@6:34-6:35", message: "string holds `\\u2028` written raw: an editor may show it as a line break" },
      { at: "SP3012@10:56-10:57", message: "comment holds `\\u2028`" },
    ],
  },
  {
    name: "SP3005 connect naming a tag no when admits",
    lint: true,
    text:
      `const admitted = ["gateway"]\n` +
      `mesh "m" {\n  network "10.0.0.0/8"\n  when node.tags contains_any ["worker", "scheduler"] or node.tags contains "dns" or "edge" in node.tags\n` +
      `  when node.tags contains_all admitted\n  connect "worker" -> "schedular"\n  connect "*" <-> "gateway"\n  connect "edge" -> "dns"\n  connect "db" -> "*"\n}\n`,
    want: [
      { at: "SP3005@6:23-6:34", message: "`connect` names tag `schedular` that no `when` of mesh `m` admits", hint: "did you mean `scheduler`?" },
      { at: "SP3005@9:11-9:15", hint: "admitted tags: dns, edge, gateway, scheduler, worker" },
    ],
  },
  {
    name: "SP3005 is silent when a tag condition reads its tags from the input (any tag may be admitted)",
    lint: true,
    text: `mesh "m" {\n  network "10.0.0.0/8"\n  when node.tags contains_any node.allowed_roles\n  when node.tags contains "worker" or node.tags contains node.role\n  connect "gpu" -> "scheduler"\n}\n`,
    want: [],
  },
  {
    name: "SP3005 is silent when a tag test is only one side of an `or` whose other side admits any tag",
    lint: true,
    text: `mesh "m" {\n  network "10.0.0.0/8"\n  when node.tags contains "worker" or node.attested\n  connect "db" -> "worker"\n}\n`,
    want: [],
  },
  {
    name: "SP3005 is silent when the mesh has no tag condition",
    lint: true,
    text: `mesh "m" {\n  network "10.0.0.0/8"\n  when node.attested\n  connect "a" -> "b"\n}\n`,
    want: [],
  },
  {
    name: "SP3006 an untagged rule in a file where another rule has tags",
    lint: true,
    text:
      `deny "a" {\n  tags ["ISO27001:A.8.2"]\n  when action == "x"\n}\n` +
      `deny "b" {\n  when action == "y"\n}\nencryption default {\n  require tee\n}\ndetect "c" {\n  severity low\n  where event.action == "z"\n}\n`,
    want: [
      { at: "SP3006@5:6-5:9", message: "rule `b` has no `tags`" },
      { at: "SP3006@8:12-8:19", message: "rule `default` has no `tags`" },
      { at: "SP3006@11:8-11:11", message: "rule `c`" },
    ],
  },
  {
    name: "SP3006 is per file",
    lint: true,
    text: { "a.policy": `deny "a" {\n  tags ["X"]\n  when action == "x"\n}\n`, "b.policy": `deny "b" {\n  when action == "y"\n}\n` },
    want: [],
  },
  {
    name: "SP3007 same kind and effect with identical conditions, ignoring spans, parens, order and spelling",
    lint: true,
    text:
      `deny "a" {\n  when action == "x" and principal.n < 60m\n  when resource.env == "prod"\n}\n` +
      `deny "b" {\n  when resource.env == "prod"\n  when (action == "x") and principal.n < 1h\n}\n` +
      `allow "c" {\n  when resource.env == "prod"\n  when (action == "x") and principal.n < 1h\n}\n` +
      `deny "d" {\n  when resource.env == "prod"\n  when action == "x" and principal.n < 1h\n  unless principal.admin\n}\n`,
    want: [{ at: "SP3007@5:6-5:9", message: "rule `b` has the same conditions as `a`", hint: "merge the two rules" }],
  },
  {
    name: "SP3007 across packages names the other rule by id",
    lint: true,
    text: { "a.policy": `package p\ndeny "a" {\n  when action == "x"\n}\n`, "b.policy": `package q\ndeny "b" {\n  when action == "x"\n}\n` },
    want: [{ at: "SP3007@2:6-2:9", message: "same conditions as `p/a`" }],
  },
  {
    name: "SP3007 allow rules that differ only in their requirements are alternatives (either grants), not duplicates",
    lint: true,
    text:
      `allow "a" {\n  when action == "x"\n  require mfa within 15m\n}\n` +
      `allow "b" {\n  when action == "x"\n  require context.break_glass ?? false else "break-glass only"\n}\n` +
      `allow "c" {\n  when action == "x"\n  require mfa within 1h\n}\n` +
      `allow "d" {\n  when action == "x"\n  require mfa within 60m\n}\n`,
    want: [{ at: "SP3007@13:7-13:10", message: "rule `d` has the same conditions as `c`" }],
  },
  {
    name: "SP3007 meshes with the same admission but another network or other requirements are different meshes",
    lint: true,
    text:
      `mesh "prod" {\n  network "100.64.0.0/16"\n  when node.attested\n  require key_age within 30d\n}\n` +
      `mesh "lab" {\n  network "10.10.0.0/16"\n  when node.attested\n}\n` +
      `mesh "lab2" {\n  network "10.20.0.0/16"\n  when node.attested\n}\n` +
      `mesh "lab-copy" {\n  network "10.20.0.0/16"\n  when node.attested\n}\n`,
    want: [{ at: "SP3007@14:6-14:16", message: "rule `lab-copy` has the same conditions as `lab2`" }],
  },
  {
    name: "SP3007 a const name means that package's const: same spelling in two packages is not the same condition",
    lint: true,
    text: {
      "a.policy": `package p\nconst admins = ["ann"]\ndeny "a" {\n  when principal.id in admins\n}\n`,
      "b.policy": `package q\nconst admins = ["bob"]\ndeny "b" {\n  when principal.id in admins\n}\n`,
      "c.policy": `package p\ndeny "c" {\n  when principal.id in admins\n}\n`,
    },
    want: [{ at: "SP3007@2:6-2:9", message: "rule `c` has the same conditions as `a`" }],
  },
  {
    name: "SP3007 detect rules compare where, by, having and steps",
    lint: true,
    text:
      `detect "a" {\n  severity low\n  where event.action == "x"\n  by user.name within 5m\n  having count >= 5\n}\n` +
      `detect "b" {\n  severity high\n  where event.action == "x"\n  by user.name within 5m\n  having count >= 5\n}\n` +
      `detect "c" {\n  severity low\n  where event.action == "x"\n  by user.name within 5m\n  having count >= 6\n}\n`,
    want: ["SP3007@7:8-7:11"],
  },
]);

runCases(t, [
  {
    // `check` passed these and every request reaching the rule got an evaluation error: the deny
    // rule denied everything it was reached for, the allow rule never allowed, the detect rule never fired.
    name: "SP3013 an expression in a rule that reads no input and cannot be evaluated; the innermost failing part is named once",
    lint: true,
    text:
      `const zero = 0\nconst obj = {a: 1}\n` +
      `deny "d" {\n  when context.age > 5m / zero * 2\n}\n` +
      `allow "a" {\n  when action == "read"\n  when principal.id == "x" or "prod" in ip("10.0.0.0/8")\n}\n` +
      `detect "det" {\n  severity low\n  where event.bytes > 1 / 0 and foo.bar == "x"\n}\n` +
      `encryption "e" {\n  when data.size > 5 / 0\n  require cipher \"aes-256-gcm\"\n}\n` +
      `deny "fine" {\n  when context.n == (obj.b ?? 3) and context.m > 10 / 2\n}\n`,
    want: [
      { at: "SP3013@4:22-4:31", message: "rule `d`: `5m / zero` cannot be evaluated: division by zero", hint: "a deny rule reached denies" },
      { at: "SP3013@8:31-8:57", message: "rule `a`: `\"prod\" in ip(\"10.0.0.0/8\")` cannot be evaluated: `in` needs an IP address" },
      { at: "SP3013@12:23-12:28", message: "rule `det`: `1 / 0`" },
      { at: "SP3013@15:20-15:25", message: "rule `e`: `5 / 0`" },
    ],
  },
  {
    // The const's own SP2033 (an error, from the load: test/evaluator/const-errors.test.ts) says it.
    name: "SP3013 not at a rule that fails only because a const it reads does",
    lint: true,
    text: `const bad = 5m / 0\ndeny "d" {\n  when context.age > bad * 2\n}\n`,
    want: [],
  },
], { lint: true });

runCases(t, [
  {
    // The default is the baseline the spec adds to every decision; with a condition it dropped out
    // silently, and data outside the condition that no named rule covered needed no encryption.
    name: "SP3014 a when or unless in encryption default; named rules may have them",
    lint: true,
    text:
      `encryption default {\n  when data.kind != "scratch"\n  unless data.public ?? false\n  require cipher "aes-256-gcm"\n}\n` +
      `encryption "phi" {\n  when data.kind == "phi"\n  unless data.test ?? false\n  require cipher "aes-256-gcm"\n}\n`,
    want: [
      { at: "SP3014@2:8-2:30", message: "`encryption default` has a `when`: where it does not hold, the default contributes nothing", hint: "put the condition in a named rule" },
      { at: "SP3014@3:10-3:30", message: "has a `unless`" },
    ],
  },
], { lint: true });

t.test("lint off: no SP3xxx at all", async (t) => {
  const r = checkText(`const unused = 1\n# lint:ignore SP3001\nallow "a" {\n  require mfa within 48h\n}\n`, { lint: false });
  t.same(r.diagnostics.map(where), []);
});

t.test("lint warnings are warnings, errors are errors", async (t) => {
  const r = checkText(`const unused = zz\n`, { lint: true });
  t.same(r.diagnostics.map((d) => `${d.code} ${d.severity}`), ["SP3003 warning", "SP2001 error"]);
});

runCases(t, [
  {
    name: "lint:ignore above a rule silences that code anywhere in it",
    lint: true,
    text: `# lint:ignore SP3004\nallow "a" {\n  when action == "x"\n  require mfa within 48h\n}\n`,
    want: [],
  },
  {
    name: "lint:ignore above the line the warning points at; several codes, comma or space separated",
    lint: true,
    text:
      `allow "a" {\n  when action == "x"\n  # lint:ignore SP3004\n  require mfa within 48h\n}\n` +
      `# lint:ignore SP3001, SP3004 SP3006\nallow "b" {\n  tags ["X"]\n  require mfa within 2d\n}\n`,
    want: [{ at: "SP3006@1:7-1:10" }, { at: "SP3008@6:30-6:36", message: "`lint:ignore SP3006` silences nothing" }],
  },
  {
    name: "SP3008 a directive that silences nothing, or names an unknown or non-lint code",
    lint: true,
    text:
      `# lint:ignore SP3003\nconst used = 1\n# lint:ignore SP4990, SP2001 -- not a lint code\n` +
      `deny "a" {\n  when principal.n == used\n}\n# lint:ignore SP3001\n\nallow "b" {\n  when action == "x"\n}\n# lint:ignore\nconst x = 1\n`,
    want: [
      { at: "SP3008@1:15-1:21", message: "`lint:ignore SP3003` silences nothing", hint: "no SP3003 warning on the rule or line below" },
      { at: "SP3008@3:15-3:21", hint: "`SP4990` is not a lint code" },
      { at: "SP3008@3:23-3:29", hint: "`SP2001` is an error, not a lint warning" },
      { at: "SP3008@7:15-7:21", message: "SP3001" },
      { at: "SP3008@12:1-12:14", hint: "name the lint codes" },
      "SP3003@13:7-13:8",
    ],
  },
  {
    name: "stacked directives and an explaining comment reach the item below; a trailing directive or a blank line does not",
    lint: true,
    text:
      `# lint:ignore SP3001\n# lint:ignore SP3004\n# reads are public on purpose\nallow "a" {\n  require mfa within 48h\n}\n` +
      `const b = 1 # lint:ignore SP3003\n# lint:ignore SP3003\n\nconst c = 2\n`,
    want: ["SP3003@7:7-7:8", "SP3008@7:27-7:33", "SP3008@8:15-8:21", "SP3003@10:7-10:8"],
  },
  {
    name: "comment lines below a directive are skipped whatever their indentation (fmt re-indents them; lint says the same before and after)",
    lint: true,
    text: `  # lint:ignore SP3003\n# why: kept for the next release\nconst a = 1\nallow "b" {\n  when action == "x"\n      # lint:ignore SP3004\n  # a reason\n  require mfa within 48h\n}\n`,
    want: [],
  },
  {
    name: "a trailing directive does not reach the item on the next line (nor the one it sits on), and says where to put it",
    lint: true,
    text: `const a = 1 # lint:ignore SP3003\nconst b = 2\ndeny "d" {\n  tags ["X"]\n  when principal.n == 3\n  # lint:ignore SP3001\n} # lint:ignore SP3001\nallow "e" {\n  tags ["X"]\n}\n`,
    want: [
      "SP3003@1:7-1:8",
      { at: "SP3008@1:27-1:33", hint: "move it onto a line of its own" },
      "SP3003@2:7-2:8",
      { at: "SP3008@6:17-6:23", hint: "no SP3001 warning" },
      { at: "SP3008@7:17-7:23", hint: "move it onto a line of its own" },
      "SP3001@8:7-8:10",
    ],
  },
  {
    name: "lint:ignore does not silence errors",
    lint: true,
    text: `# lint:ignore SP3001\nallow "a" {\n  when zz\n}\n`,
    want: ["SP3008@1:15-1:21", "SP2001@3:8-3:10"],
  },
  {
    // A comment that only starts like one ("lint:ignore-free", "lint:ignored") was read as a directive
    // naming "-free" or "d...", and warned as SP3008.
    name: "a word that starts with lint:ignore is no directive",
    lint: true,
    text: `# lint:ignore-free zone: nothing below is silenced\n# lint:ignored SP3003 once\nconst unused = 1\n`,
    want: ["SP3003@3:7-3:13"],
  },
]);
