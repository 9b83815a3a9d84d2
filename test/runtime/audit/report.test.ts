/**
 * Audit reports as text and HTML: what a person must see (verdict, groups,
 * objects with their violations, invalid records with their line), and that
 * nothing from the inventory or the policies is rendered unescaped: no
 * terminal control sequences in text, no markup in HTML, and the HTML page
 * loads nothing from anywhere.
 */
import t from "tap";
import { compile } from "../../../src/index.js";
import { auditInventory } from "../../../src/runtime/audit/audit.js";
import { recordsOf } from "../../../src/runtime/audit/inventory.js";
import { escapeHtml, renderAuditHtml } from "../../../src/runtime/audit/report-html.js";
import { printable, renderAuditText } from "../../../src/runtime/audit/report-text.js";

const NOW = Date.parse("2026-03-01T00:00:00Z");
const HOSTILE = `<script>alert("x")</script>\u001b[31m'&`;
const POLICY = `package r
encryption "phi" {
  tags ["HIPAA:164.312(a)(2)(iv)", "X:<b>bold</b>"]
  when data.classification == "phi"
  require cipher "aes-256-gcm"
  require tee
}
`;

async function report(records: unknown[], options = {}) {
  return auditInventory(compile(POLICY), recordsOf(records), { now: NOW, inventory: `inv${HOSTILE}.jsonl`, ...options });
}

const hostileRecords = [
  { id: HOSTILE, classification: "phi", note: HOSTILE, encryption: { cipher: "aes-256-gcm", tee: false } },
  { id: "fine", classification: "phi", encryption: { cipher: "aes-256-gcm", tee: true } },
  { id: "bad", classification: "phi", encryption: { cipher: "aes-256-gcm", [HOSTILE]: 1 } },
];

t.test("text: verdict, tables, objects and invalid records", async (t) => {
  const text = renderAuditText(await report(hostileRecords));
  const lines = text.split("\n");
  t.match(lines[0], /^Encryption audit of inv.* at 2026-03-01T00:00:00.000Z, policy set [0-9a-f]{12}$/);
  t.equal(lines[1], "NOT COMPLIANT: 3 records, 1 compliant, 1 non-compliant, 1 invalid (1 violation)");
  t.match(text, /^ {2}HIPAA:164\.312\(a\)\(2\)\(iv\) +2 +1 +1 +1$/m, "tag row: objects, compliant, non-compliant, violations");
  t.match(text, /^ {2}r\/phi +2 +1 +1$/m, "rule row");
  t.match(text, /^ {2}line 1: <script>alert\("x"\)<\/script>\\u001b\[31m'& non-compliant/m);
  t.match(text, /^ {4}r\/phi: data is not in a trusted execution environment \(tee\)$/m);
  t.match(text, /^ {2}line 3: bad \/encryption must NOT have additional properties/m);
  t.notMatch(text, /\u001b/, "no raw escape character reaches the terminal");

  const ok = renderAuditText(await report([hostileRecords[1]]));
  t.match(ok.split("\n")[1], /^COMPLIANT: 1 record, 1 compliant, 0 non-compliant, 0 invalid \(0 violations\)$/);
  t.match(renderAuditText(await report([])), /holds no records: nothing was verified/);
  t.equal(printable("a\u0000b\u009bc\u2028"), "a\\u0000b\\u009bc\\u2028");
  // Bidi controls too: raw, U+202E in a record id reorders the rest of its line (Trojan Source).
  t.equal(printable("a\u202eb\u2066c\u200f"), "a\\u202eb\\u2066c\\u200f");
});

t.test("text: control characters from the policies are escaped too (framework, rule ids)", async (t) => {
  // A tag's framework and a quoted rule name are policy text: an OSC sequence in one would retitle
  // the terminal, and the same tag was escaped in the tags table but not in the frameworks table.
  const policy = `package r
encryption "x\\u001b[31m" {
  tags ["EVIL\\u001b]0;pwned\\u0007:1"]
  require cipher "aes-256-gcm"
}
`;
  const r = await auditInventory(compile(policy), recordsOf([{ id: "a", encryption: { cipher: null } }]), { now: NOW });
  const text = renderAuditText(r);
  t.notMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f]/, "no raw control character reaches the terminal");
  t.match(text, /^ {2}EVIL\\u001b\]0;pwned\\u0007 +1 +0 +1$/m, "frameworks row");
  t.match(text, /^ {2}r\/x\\u001b\[31m +1 +1 +1$/m, "rules row");
  t.match(text, /^ {4}r\/x\\u001b\[31m: cipher is missing, required aes-256-gcm$/m, "violation line");
});

t.test("text: left-out details are counted", async (t) => {
  const many = Array.from({ length: 5 }, (_, i) => ({ id: `o${i}`, classification: "phi", encryption: { cipher: "x" } }));
  const text = renderAuditText(await report([...many, { id: 1 }, { id: 2 }], { maxDetails: 1 }));
  t.match(text, /\.\.\. and 4 more objects not listed/);
  t.match(text, /\.\.\. and 1 more invalid record not listed/);
  t.match(text, /Objects \(the first 1 listed\)/);
});

t.test("html: self-contained and everything escaped", async (t) => {
  const html = renderAuditHtml(await report(hostileRecords));
  t.match(html, /^<!doctype html>\n<html lang="en">/);
  t.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  t.notMatch(html, /<script/i, "no script element, even from a hostile id");
  t.notMatch(html, /<(link|img|iframe|object|embed|base|form)\b/i, "no element that loads anything");
  t.notMatch(html, /\b(src|href|action)\s*=/i, "no attribute pointing anywhere");
  t.notMatch(html, /url\(|@import/i, "no CSS that loads anything");
  t.notMatch(html, /<b>bold/, "tags from policies are escaped too");
  t.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  t.match(html, /X:&lt;b&gt;bold&lt;\/b&gt;/);
  t.match(html, /<p class="verdict bad">NOT COMPLIANT: 3 records/);
  t.match(html, /data is not in a trusted execution environment \(tee\)/);
  t.match(html, /<title>Encryption audit of inv&lt;script&gt;/);
  // Every < in the page opens one of the few elements the renderer writes itself.
  const tags = new Set([...html.matchAll(/<\/?([a-zA-Z!][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase()));
  const ours = ["!doctype", "body", "br", "code", "div", "h1", "h2", "head", "html", "li", "meta", "p", "span", "style", "table", "tbody", "td", "th", "thead", "title", "tr", "ul"];
  for (const x of tags) t.ok(ours.includes(x), `element ${x} is one of ours`);

  const ok = renderAuditHtml(await report([hostileRecords[1]]));
  t.match(ok, /<p class="verdict ok">COMPLIANT: 1 record/);
  t.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
});
