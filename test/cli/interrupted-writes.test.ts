/**
 * Verbs that write files atomically (temp, fsync, rename) other than the key
 * verbs: `mesh plan`, `fmt --write`, `detect --risk-out`. Interrupted while a
 * file sits in its temporary file (fsync made to hang, so the point is known,
 * not timed), they leave no temporary file behind and no half-made output,
 * and end with 128 + n as the key verbs do.
 */
import t from "tap";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { INTERRUPTS, signalAtMarker } from "../support/interrupts.js";
import { fixtureInventory, MESH_POLICY } from "../support/mesh-fixture.js";
import { POLICIES } from "./run.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Every file under `dir`, relative, sorted. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

/** Run the CLI from source with fsync hanging; once a write is in its temporary file, send `signal`. */
async function interrupted(cwd: string, args: string[], signal: NodeJS.Signals): Promise<number | null> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--import", pathToFileURL(path.join(repoRoot, "test/support/hang-fsync.mjs")).href, path.join(repoRoot, "src/cli/bin.ts"), ...args],
    { cwd, stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await signalAtMarker(child, "fsync-hangs", signal, "before writing");
  return exited;
}

t.test("mesh plan: no temporary config, rules or plan.json file stays", async (t) => {
  for (const [signal, want] of INTERRUPTS) {
    const cwd = t.testdir({ "lab.policy": MESH_POLICY, "nodes.json": JSON.stringify(fixtureInventory()) });
    const code = await interrupted(cwd, ["mesh", "plan", "lab.policy", "--nodes", "nodes.json", "--out", "out", "--time", "2026-01-10T00:00:00Z"], signal);
    t.equal(code, want, `${signal}: exit ${want}`);
    const left = tree(cwd);
    t.same(left.filter((f) => path.basename(f).startsWith(".")), [], `${signal}: no temporary file`);
    t.notOk(left.includes("out/plan.json"), `${signal}: no plan.json for a plan not written`);
  }
});

t.test("fmt --write: the file is as it was, no temporary file beside it", async (t) => {
  const cwd = t.testdir({ "u.policy": POLICIES.unformatted });
  t.equal(await interrupted(cwd, ["fmt", "--write", "u.policy"], "SIGINT"), 130);
  t.same(tree(cwd), ["u.policy"]);
  t.equal(readFileSync(path.join(cwd, "u.policy"), "utf8"), POLICIES.unformatted);
});

t.test("detect --risk-out: no snapshot and no temporary file", async (t) => {
  const cwd = t.testdir({
    "d.policy": 'detect "any" {\n  where event.action == "login"\n  by user.name within 1m\n  then risk user.name + 10 for 1h\n}\n',
    "events.jsonl": '{"@timestamp":"2026-03-10T09:00:00Z","event":{"action":"login"},"user":{"name":"alice"}}\n',
  });
  t.equal(await interrupted(cwd, ["detect", "d.policy", "--events", "events.jsonl", "--risk-out", "risk.json"], "SIGTERM"), 143);
  t.same(tree(cwd), ["d.policy", "events.jsonl"]);
});
