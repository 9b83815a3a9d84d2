import t from "tap";
import { readFileSync } from "node:fs";
import { renderDiagnosticsDoc, DIAGNOSTICS_DOC } from "../scripts/diagnostics-doc.js";

t.test("docs/diagnostics.md matches the catalogue (run `npm run docs:codes`)", async (t) => {
  t.equal(readFileSync(DIAGNOSTICS_DOC, "utf8"), renderDiagnosticsDoc());
});
