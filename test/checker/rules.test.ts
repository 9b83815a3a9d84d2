/**
 * Rule identity and the per-kind passes: ids (SP2003), the encryption
 * default (SP2026), ciphers (SP2016, SP2022), detect shape (SP2017, SP2018,
 * SP2021, SP2024, SP2028, SP2029), mesh settings (SP2023, SP2029).
 */
import t from "tap";
import { checkText, runCases, where } from "./helpers.js";

runCases(t, [
  {
    name: "SP2003 duplicate rule id, also across kinds and files",
    text: {
      "a.policy": `package p\nallow "r" {\n  when action == "x"\n}\ndeny "r" {\n  when action == "y"\n}\n`,
      "b.policy": `package p\ndetect "r" {\n  severity low\n  where event.action == "z"\n}\n`,
    },
    want: [{ at: "SP2003@5:6-5:9", message: "duplicate rule id `p/r`" }, "SP2003@2:8-2:11"],
  },
  {
    name: "the same name in two packages is two ids",
    text: { "a.policy": `package p\ndeny "r" {\n  when action == "x"\n}\n`, "b.policy": `package q\ndeny "r" {\n  when action == "x"\n}\n` },
    want: [],
  },
  {
    name: "SP2026 a second encryption default anywhere",
    text: {
      "a.policy": `package p\nencryption default {\n  require cipher "aes-256-gcm"\n}\n`,
      "b.policy": `package q\nencryption default {\n  require tee\n}\n`,
    },
    want: [{ at: "SP2026@2:12-2:19", hint: "merge the defaults" }],
  },
  {
    name: "SP2021 a tag listed twice",
    text: `deny "r" {\n  tags ["A", "B", "A"]\n  when action == "x"\n}\n`,
    want: [{ at: "SP2021@2:19-2:22", message: "duplicate tag `A`" }],
  },
  {
    name: "SP2016 unknown cipher with a did-you-mean",
    text: `encryption "e" {\n  require cipher "AES-256-GCM"\n}\nencryption "f" {\n  require cipher "chacha20"\n}\n`,
    want: [
      { at: "SP2016@2:18-2:31", message: "unknown cipher `AES-256-GCM`", hint: "did you mean `aes-256-gcm`?" },
      { at: "SP2016@5:18-5:28", hint: "ciphers are aes-256-gcm, aes-256-gcm-siv" },
    ],
  },
  {
    name: "SP2022 a rule whose cipher differs from the default",
    text: `encryption default {\n  require cipher "aes-256-gcm"\n}\nencryption "phi" {\n  when data.classification == "phi"\n  require cipher "aes-256-gcm-siv"\n}\n`,
    want: [{ at: "SP2022@6:18-6:35", message: "conflicting ciphers `aes-256-gcm-siv` and `aes-256-gcm` can both apply", hint: "the default requires `aes-256-gcm`" }],
  },
  {
    name: "SP2022 two named rules that can both apply; disjoint literal sets cannot",
    text:
      `encryption "a" {\n  when data.classification in ["phi", "pii"]\n  require cipher "aes-256-gcm"\n}\n` +
      `encryption "b" {\n  when data.classification == "public"\n  require cipher "aes-256-gcm-siv"\n}\n` +
      `encryption "c" {\n  when data.region == "eu"\n  require cipher "aes-256-gcm-siv"\n}\n` +
      `encryption "d" {\n  when data.classification == "pii" and data.region == "us"\n  require cipher "aes-256-gcm-siv"\n}\n`,
    want: [
      { at: "SP2022@11:18-11:35", hint: "rule `a` requires `aes-256-gcm`" },
      { at: "SP2022@15:18-15:35", hint: "rule `a` requires `aes-256-gcm`" },
    ],
  },
  {
    name: "SP2022 disjointness through a const and reversed ==",
    text:
      `const phi = ["phi", "pii"]\n` +
      `encryption "a" {\n  when data.classification in phi\n  require cipher "aes-256-gcm"\n}\n` +
      `encryption "b" {\n  when "public" == data.classification\n  require cipher "aes-256-gcm-siv"\n}\n`,
    want: [],
  },
  {
    name: "SP2022 exclusive by negation: `when p == v` against `unless p == v`, `when p != v` or `when not (p in [...])`",
    text:
      `encryption "phi" {\n  when data.classification == "phi"\n  require cipher "aes-256-gcm-siv"\n}\n` +
      `encryption "rest" {\n  unless data.classification == "phi"\n  require cipher "aes-256-gcm"\n}\n` +
      `encryption "rest2" {\n  when data.classification != "phi"\n  require cipher "aes-256-gcm"\n}\n` +
      `encryption "rest3" {\n  when not (data.classification in ["phi", "pii"])\n  require cipher "aes-256-gcm"\n}\n` +
      // still a conflict: the negation does not cover every value the other rule allows, or is only part of an unless
      `encryption "pii" {\n  when data.classification in ["pii", "x"]\n  when data.region == "eu"\n  require cipher "aes-256-gcm-siv"\n}\n` +
      `encryption "rest4" {\n  unless data.classification == "phi" and data.region == "eu"\n  require cipher "aes-256-gcm"\n}\n`,
    want: [
      { at: "SP2022@20:18-20:35", hint: "rule `rest` requires `aes-256-gcm`" },
      { at: "SP2022@24:18-24:31", hint: "rule `phi` requires `aes-256-gcm-siv`" },
    ],
  },
  {
    name: "SP2029 detect without condition; SP2024 severity; SP2017 having without by",
    text: `detect "d" {\n  severity hgih\n  having count >= 5\n}\n`,
    want: [
      { at: "SP2029@1:8-1:11", message: "detect `d` has no `where` or `sequence`" },
      { at: "SP2024@2:12-2:16", message: "unknown severity `hgih`", hint: "severities are low, medium, high, critical" },
      { at: "SP2017@3:3-3:20", hint: "add `by FIELD within DURATION`" },
    ],
  },
  {
    name: "SP2024 with a did-you-mean",
    text: `detect "d" {\n  severity hihg2\n  where event.action == "x"\n}\ndetect "e" {\n  severity Low\n  where event.action == "y"\n}\n`,
    want: ["SP2024@2:12-2:17", { at: "SP2024@6:12-6:15", hint: "did you mean `low`?" }],
  },
  {
    name: "SP2018 step counts; SP2021 duplicate step names",
    text:
      `detect "d" {\n  severity low\n  by user.name within 5m\n  sequence {\n` +
      `    a: event.action == "x" count >= 0\n    b: event.action == "y" count >= 2.5\n    a: event.action == "z" count >= 3\n  }\n}\n`,
    want: [
      { at: "SP2018@5:37-5:38", message: "step count must be a positive integer, found `0`" },
      { at: "SP2018@6:37-6:40", message: "found `2.5`" },
      { at: "SP2021@7:5-7:6", message: "duplicate step `a`" },
    ],
  },
  {
    name: "SP2028 by fields, distinct field and then targets must be event paths; amounts numbers",
    text:
      `detect "d" {\n  severity low\n  where event.action == "x"\n  by lower(user.name) within 5m\n  having distinct "port" >= 20\n  then risk user.name + "much"\n}\n`,
    want: [
      { at: "SP2028@4:6-4:22", message: "a `by` field must be an event field path" },
      { at: "SP2028@5:19-5:25", message: "the `distinct` field must be" },
      { at: "SP2028@6:25-6:31", message: "the risk amount must be a number" },
    ],
  },
  {
    name: "SP2028 a risk amount below 0 (it would cancel other raises), also through a const",
    text: `const forgive = -40\ndetect "d" {\n  where event.action == "x"\n  then risk user.name + -10\n  then risk user.name + forgive for 1h\n}\n`,
    want: [
      { at: "SP2028@4:25-4:28", message: "the risk amount must be a number of at least 0" },
      { at: "SP2028@5:25-5:32", message: "the risk amount must be a number of at least 0" },
    ],
  },
  {
    name: "SP2029 mesh without network; SP2023 settings out of range",
    text:
      `mesh "m" {\n  listen_port 70000\n  keepalive 1500ms\n  connect "a" -> "b" ports [0, 53, 65536]\n}\n` +
      `mesh "n" {\n  network "10.0.0.1/8"\n  keepalive 0s\n}\nmesh "o" {\n  network "10.0.0.0/31"\n}\nmesh "p" {\n  network "100.64.0.0"\n}\nmesh "q" {\n  network "fd00::/129"\n}\n`,
    want: [
      { at: "SP2029@1:6-1:9", message: "mesh `m` has no `network`" },
      { at: "SP2023@2:15-2:20", message: "invalid listen_port: 70000 is not a port in 1-65535" },
      { at: "SP2023@3:13-3:19", message: "1500ms is not a whole number of seconds" },
      { at: "SP2023@4:29-4:30", message: "invalid port: 0" },
      { at: "SP2023@4:36-4:41", message: "invalid port: 65536" },
      { at: "SP2023@7:11-7:23", message: "has host bits set", hint: "did you mean `10.0.0.0/8`?" },
      { at: "SP2023@8:13-8:15", message: "0s is outside 1s..65535s" },
      { at: "SP2023@11:11-11:24", message: "/31 leaves no room for nodes" },
      { at: "SP2023@14:11-14:23", message: "is an address, not a range", hint: "100.64.0.0/24" },
      { at: "SP2023@17:11-17:23", message: "prefix length 129 is above 128" },
    ],
  },
  {
    name: "a well-formed detect, mesh and encryption set is clean",
    text:
      `encryption default {\n  require cipher "aes-256-gcm"\n}\n` +
      `mesh "m" {\n  network "fd00:5157::/48"\n  listen_port 51820\n  keepalive 25s\n  connect "*" -> "dns" ports [53]\n}\n` +
      `detect "d" {\n  severity critical\n  by user.name, source.ip within 10m\n  all {\n    a: event.action == "x" count >= 5\n    b: event.action == "y"\n  }\n  then quarantine user.name for 1h\n}\n`,
    want: [],
  },
]);

t.test("SP2003 names the first definition as related", async (t) => {
  const r = checkText(`deny "r" {\n  when action == "x"\n}\ndeny "r" {\n  when action == "y"\n}\n`, { lint: false });
  t.same(r.diagnostics.map(where), ["SP2003@4:6-4:9"]);
  t.same(r.diagnostics[0]!.related?.map((x) => `${x.span.line}:${x.span.column}`), ["1:6"]);
});
