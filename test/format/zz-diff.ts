import { format } from "../../src/format/format.js";
import { readFileSync, writeFileSync } from "node:fs";
console.log("args", process.argv.length);
for (const f of process.argv.slice(2)) {
  const t = readFileSync(f, "utf8");
  const r = format(t, f);
  if (r.internalError) console.log("INTERNAL", f, r.internalError);
  if (r.diagnostics.length) console.log("DIAG", f, r.diagnostics.length);
  if (r.changed) { writeFileSync("/tmp/fmt-out/" + f.replace(/\//g, "__"), r.output); console.log("CHANGED", f); }
}
