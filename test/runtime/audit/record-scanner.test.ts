/**
 * The inventory scanner: JSON Lines and JSON arrays split into records with
 * their lines, the same whatever the chunking; bad records reported and
 * skipped; broken array structure fails the whole input; records longer
 * than the limit are reported without being buffered.
 */
import t from "tap";
import { Readable } from "node:stream";
import { RecordScanner, InventoryError, type ScannedRecord, type ScannerOptions } from "../../../src/runtime/audit/record-scanner.js";
import { readInventory, recordsOf, openInventory } from "../../../src/runtime/audit/inventory.js";

const enc = new TextEncoder();

/** Feed `text` in pieces of `size` bytes (0: whole) and collect what comes out. */
function scan(text: string | Uint8Array, size = 0, options: ScannerOptions = {}): { records: ScannedRecord[]; scanner: RecordScanner } {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  const scanner = new RecordScanner(options);
  const records: ScannedRecord[] = [];
  const step = size === 0 ? Math.max(1, bytes.length) : size;
  for (let i = 0; i < bytes.length; i += step) records.push(...scanner.push(bytes.slice(i, i + step)));
  records.push(...scanner.end());
  return { records, scanner };
}

const brief = (rs: ScannedRecord[]) => rs.map((r) => (r.error !== undefined ? { line: r.line, index: r.index, error: r.error } : { line: r.line, index: r.index, value: r.value }));

const CASES: Array<{ name: string; text: string; format: "json" | "jsonl" | null; want: object[] }> = [
  { name: "empty input", text: "", format: null, want: [] },
  { name: "whitespace only", text: "\n \n\t\n", format: null, want: [] },
  {
    name: "JSONL with blank lines and CRLF",
    text: '\n{"id":"a"}\r\n\r\n{"id":"b"}\n',
    format: "jsonl",
    want: [
      { line: 2, index: 0, value: { id: "a" } },
      { line: 4, index: 1, value: { id: "b" } },
    ],
  },
  {
    name: "JSONL without a final newline, bad line in between",
    text: '{"id":"a"}\nnot json\n{"id":"c"}',
    format: "jsonl",
    want: [
      { line: 1, index: 0, value: { id: "a" } },
      { line: 2, index: 1, error: 'not JSON: line 1, column 1: unexpected "n"' },
      { line: 3, index: 2, value: { id: "c" } },
    ],
  },
  { name: "UTF-8 BOM then JSONL", text: '\ufeff{"id":"é"}\n', format: "jsonl", want: [{ line: 1, index: 0, value: { id: "é" } }] },
  { name: "UTF-8 BOM then an array", text: '\ufeff[{"id":"a"}]', format: "json", want: [{ line: 1, index: 0, value: { id: "a" } }] },
  { name: "empty array", text: " [ ] \n", format: "json", want: [] },
  {
    name: "pretty-printed array, lines of each record's start",
    text: '[\n  {\n    "id": "a",\n    "n": [1, {"x": "]}"}]\n  },\n  {"id": "b"}\n]\n',
    format: "json",
    want: [
      { line: 2, index: 0, value: { id: "a", n: [1, { x: "]}" }] } },
      { line: 6, index: 1, value: { id: "b" } },
    ],
  },
  {
    name: "strings with escaped quotes, backslashes, brackets and newlines escaped",
    text: '[{"id":"q\\"[{","s":"\\\\"},{"id":"\\\\\\"}"}]',
    format: "json",
    want: [
      { line: 1, index: 0, value: { id: 'q"[{', s: "\\" } },
      { line: 1, index: 1, value: { id: '\\"}' } },
    ],
  },
  {
    name: "scalar elements are records too (invalid later, but scanned)",
    text: '[1, "x", true,null ,{"id":"a"},-2.5e3]',
    format: "json",
    want: [
      { line: 1, index: 0, value: 1 },
      { line: 1, index: 1, value: "x" },
      { line: 1, index: 2, value: true },
      { line: 1, index: 3, value: null },
      { line: 1, index: 4, value: { id: "a" } },
      { line: 1, index: 5, value: -2500 },
    ],
  },
  {
    name: "a balanced element that is not JSON is one bad record",
    text: '[{"id":"a"},\n{id: 1},\n{"id":"c"}]',
    format: "json",
    want: [
      { line: 1, index: 0, value: { id: "a" } },
      { line: 2, index: 1, error: 'not JSON: line 1, column 2: unexpected "i"' },
      { line: 3, index: 2, value: { id: "c" } },
    ],
  },
];

t.test("a record that is not JSON is reported by position, never quoted (its text may hold a secret)", async (t) => {
  // V8's own message for these quotes the text: `Unexpected token 'h', ..."x":hunter2}" is not valid JSON`.
  const lines = ['{"id":"a","db_password":"hunter2-s3cret","x":hunter2}', '{"id":"b","token":"hunter2-s3cret"} hunter2', "[1,\n"];
  for (const text of [lines.join("\n") + "\n", `[${lines[0]}]`]) {
    const { records } = scan(text);
    const errors = records.filter((r) => r.error !== undefined).map((r) => r.error!);
    t.ok(errors.length > 0, "reported");
    for (const e of errors) {
      t.notMatch(e, /hunter2|s3cret/, `no record text in ${JSON.stringify(e)}`);
      t.match(e, /^not JSON(: line \d+, column \d+: .+)?$/);
    }
  }
  t.same(brief(scan(lines[0] + "\n").records), [{ line: 1, index: 0, error: 'not JSON: line 1, column 46: unexpected "h"' }]);
});

t.test("records and lines, whatever the chunk size", async (t) => {
  for (const c of CASES) {
    const bytes = enc.encode(c.text);
    for (const size of [0, 1, 2, 3, 7, 64]) {
      const { records, scanner } = scan(bytes, size);
      t.same(brief(records), c.want, `${c.name} (chunks of ${size || "all"})`);
      t.equal(scanner.format, c.format, `${c.name}: format`);
    }
  }
});

t.test("every split point of a mixed JSON array gives the same records", async (t) => {
  const text = '[\n {"id":"a","s":"x\\"]}\\\\"},\n 12 ,\n {"id":"b","l":[[],{}]},"str"\n]';
  const whole = brief(scan(text).records);
  t.equal(whole.length, 4);
  const bytes = enc.encode(text);
  for (let cut = 1; cut < bytes.length; cut++) {
    const scanner = new RecordScanner();
    const got = [...scanner.push(bytes.slice(0, cut)), ...scanner.push(bytes.slice(cut)), ...scanner.end()];
    t.same(brief(got), whole, `cut at ${cut}`);
  }
});

t.test("broken array structure fails the whole input, with its line", async (t) => {
  const cases: Array<[string, string, number, RegExp]> = [
    ["truncated inside a record", '[{"id":"a"},\n{"id":', 2, /ends inside its JSON array/],
    ["truncated after a comma", '[{"id":"a"},', 1, /ends inside its JSON array/],
    ["no closing bracket", '[{"id":"a"}\n', 2, /ends inside its JSON array/],
    ["unterminated string", '[{"id":"a}]\n', 2, /ends inside its JSON array/],
    ["leading comma", "[,{}]", 1, /unexpected ","/],
    ["trailing comma", '[{"id":"a"},\n]', 2, /unexpected "\]"/],
    ["double comma", "[{},,{}]", 1, /unexpected ","/],
    ["missing comma", '[{"id":"a"}\n{"id":"b"}]', 2, /expected "," or "\]"/],
    ["mismatched bracket", '[\n{"a":[1}]', 2, /mismatched "}"/],
    ["stray closing brace", "[}]", 1, /unexpected "}"/],
    ["text after the array", "[{}]\n[{}]", 2, /after the JSON array/],
    ["broken BOM", "\xef\xbb[]", 1, /byte order mark/],
    ["forced json, not an array", '{"id":"a"}', 1, /must be an array/],
  ];
  for (const [name, text, line, message] of cases) {
    const bytes = name === "broken BOM" ? Uint8Array.from([0xef, 0xbb, 0x5b, 0x5d]) : enc.encode(text);
    for (const size of [0, 1]) {
      let caught: unknown;
      try {
        scan(bytes, size, name.startsWith("forced") ? { format: "json" } : {});
      } catch (err) {
        caught = err;
      }
      t.type(caught, InventoryError, `${name} (chunks of ${size || "all"})`);
      t.match((caught as InventoryError).message, message, name);
      t.equal((caught as InventoryError).line, line, `${name}: line`);
    }
  }
});

t.test("records longer than the limit are bad records, not buffered, and the scan goes on", async (t) => {
  const long = JSON.stringify({ id: "big", pad: "x".repeat(500) });
  for (const [layout, text] of [
    ["jsonl", `{"id":"a"}\n${long}\n{"id":"c"}\n`],
    ["json", `[{"id":"a"},\n${long},\n{"id":"c"}]`],
  ] as const) {
    for (const size of [0, 16]) {
      const { records } = scan(text, size, { maxRecordBytes: 100 });
      t.same(
        brief(records),
        [
          { line: 1, index: 0, value: { id: "a" } },
          { line: 2, index: 1, error: "record is longer than 100 bytes" },
          { line: 3, index: 2, value: { id: "c" } },
        ],
        `${layout}, chunks of ${size || "all"}`,
      );
    }
  }
  t.throws(() => new RecordScanner({ maxRecordBytes: 0 }), RangeError);
});

t.test("invalid UTF-8 in a record is that record's problem", async (t) => {
  const bytes = Uint8Array.from([...enc.encode('{"id":"'), 0xff, 0xfe, ...enc.encode('"}\n{"id":"b"}\n')]);
  t.same(brief(scan(bytes).records), [
    { line: 1, index: 0, error: "not valid UTF-8" },
    { line: 2, index: 1, value: { id: "b" } },
  ]);
});

t.test("readInventory over a stream names the inventory and line in errors", async (t) => {
  const got: ScannedRecord[] = [];
  for await (const r of readInventory(Readable.from(['{"id":"a"}\n{"id"', ':"b"}\n']), { label: "x.jsonl" })) got.push(r);
  t.same(brief(got), [
    { line: 1, index: 0, value: { id: "a" } },
    { line: 2, index: 1, value: { id: "b" } },
  ]);
  await t.rejects(
    (async () => {
      for await (const _ of readInventory(Readable.from(['[{"id":"a"},\n{"id"']), { label: "x.json" }));
    })(),
    { name: "InventoryError", message: "x.json:2: the inventory ends inside its JSON array (is the file truncated?)" },
  );
  const failing = new Readable({
    read() {
      this.destroy(Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" }));
    },
  });
  await t.rejects(
    (async () => {
      for await (const _ of readInventory(failing, { label: "disk.jsonl" }));
    })(),
    { name: "InventoryError", message: /^cannot read inventory disk\.jsonl: EIO/ },
  );
});

t.test("openInventory: missing file and directory are InventoryErrors; a file streams", async (t) => {
  const dir = t.testdir({ "inv.jsonl": '{"id":"a"}\n{"id":"b"}\n', sub: {} });
  await t.rejects(openInventory(`${dir}/nope.jsonl`, { label: "nope.jsonl" }), { name: "InventoryError", message: "cannot read inventory nope.jsonl: no such file or directory" });
  await t.rejects(
    (async () => {
      for await (const _ of await openInventory(`${dir}/sub`, { label: "sub" }));
    })(),
    { name: "InventoryError", message: "cannot read inventory sub: is a directory" },
  );
  const ids: unknown[] = [];
  for await (const r of await openInventory(`${dir}/inv.jsonl`)) ids.push((r.value as { id: string }).id);
  t.same(ids, ["a", "b"]);
  const listed: ScannedRecord[] = [];
  for await (const r of recordsOf([{ id: "x" }, 5])) listed.push(r);
  t.same(listed, [
    { line: 1, index: 0, value: { id: "x" } },
    { line: 2, index: 1, value: 5 },
  ]);
});

t.test("bracket nesting deeper than the record limit is counted, not held: memory stays bounded", async (t) => {
  // A record of 16 MiB of `[` once held one JS array slot per byte (about 30 bytes each).
  const scanner = new RecordScanner();
  const chunk = new Uint8Array(256 * 1024).fill(0x5b);
  scanner.push(enc.encode("["));
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 64; i++) scanner.push(chunk);
  const grown = process.memoryUsage().heapUsed - before;
  t.ok(grown < 64 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB over 16 MiB of "["`);

  // Deeper than the limit: a bad record whose end is still found, and the scan goes on.
  const deep = "[".repeat(40) + "]".repeat(40);
  for (const size of [0, 7]) {
    t.same(
      brief(scan(`[{"id":"a"},${deep},{"id":"c"}]`, size, { maxRecordBytes: 16 }).records),
      [
        { line: 1, index: 0, value: { id: "a" } },
        { line: 1, index: 1, error: "record is longer than 16 bytes" },
        { line: 1, index: 2, value: { id: "c" } },
      ],
      `chunks of ${size || "all"}`,
    );
  }
  // Within the kept levels, brackets are still matched.
  t.throws(() => scan(`[${"[".repeat(10)}}`, 0, { maxRecordBytes: 16 }), InventoryError);
  t.throws(() => scan(`[${"[".repeat(100)}${"]".repeat(99)}}]`, 0, { maxRecordBytes: 4096 }), /mismatched "}"/);
});
