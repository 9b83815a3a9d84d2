import t from "tap";
import { SourceText } from "../../src/parser/span.js";
import { diagnostic } from "../../src/diagnostics/diagnostic.js";
import { countSeverities, displayPath, renderJson, toJsonReport } from "../../src/diagnostics/render-json.js";

const text = 'const a = 1\nconst a = 2\nallow "x" {\n}\n';
const src = new SourceText("/repo/p/dup.policy", text);

t.test("the report: diagnostics as plain data with counts", async (t) => {
  const second = text.indexOf("a", 6 + 6);
  const dup = diagnostic("SP2005", src.span(second, second + 1), { name: "a" }, {
    related: [{ message: "first defined here", span: src.span(6, 7) }],
  });
  const warn = diagnostic("SP3001", src.span(text.indexOf("allow"), text.indexOf("}") + 1), { name: "x" });
  const report = JSON.parse(renderJson([dup, warn], { cwd: "/repo" }));
  t.same(report, {
    diagnostics: [
      {
        code: "SP2005",
        severity: "error",
        message: "duplicate const `a`",
        file: "p/dup.policy",
        line: 2,
        column: 7,
        endLine: 2,
        endColumn: 8,
        related: [{ message: "first defined here", file: "p/dup.policy", line: 1, column: 7, endLine: 1, endColumn: 8 }],
      },
      {
        code: "SP3001",
        severity: "warning",
        message: "allow rule `x` has no `when`: it applies to every request",
        hint: "add a `when` clause that narrows it",
        file: "p/dup.policy",
        line: 3,
        column: 1,
        endLine: 4,
        endColumn: 2,
      },
    ],
    errors: 1,
    warnings: 1,
  });
  t.notOk("hint" in report.diagnostics[0], "no hint key when there is no hint");
  t.notOk("related" in report.diagnostics[1], "no related key when there is nothing related");
  t.same(Object.keys(report.diagnostics[1]).slice(0, 4), ["code", "severity", "message", "hint"], "key order as documented");
  t.ok(renderJson([]).endsWith("}\n"), "ends with a newline");
  t.same(toJsonReport([]), { diagnostics: [], errors: 0, warnings: 0 });
  t.same(countSeverities([dup, warn, warn]), { errors: 1, warnings: 2 });
});

t.test("displayPath: relative to cwd inside it, absolute outside", async (t) => {
  t.equal(displayPath("/repo/a/b.policy", { cwd: "/repo" }), "a/b.policy");
  t.equal(displayPath("/elsewhere/b.policy", { cwd: "/repo" }), "/elsewhere/b.policy", "outside cwd: absolute");
  t.equal(displayPath("../x/b.policy", { cwd: "/repo/sub" }), "/repo/x/b.policy");
  t.equal(displayPath("/repo/..x/b.policy", { cwd: "/repo" }), "..x/b.policy", "a name starting with .. is inside");
  t.equal(displayPath("a/b.policy", { cwd: "/repo" }), "a/b.policy", "relative paths are taken from cwd");
  t.equal(displayPath("a/b.policy"), "a/b.policy", "no cwd: as given");
});
