/**
 * The package as a user installs it: what `npm pack` ships (the file list of
 * `npm pack --dry-run --json`), what a CommonJS `require("swarm-policy")`
 * gets, and that the build leaves no output of deleted sources in dist/.
 */
import t from "tap";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  overrides?: Record<string, string>;
  scripts: Record<string, string>;
};

/**
 * Dependencies the shipped code does not import, each with its reason.
 * light-my-request: fastify's, pinned directly so that a user's install
 * dedupes fastify's copy to it; the newest (6.8) pulls cookie 2, which
 * requires Node >= 22 (EBADENGINE on the Node 20 we support).
 */
const PINNED_FOR_A_DEPENDENCY: Record<string, string> = { "light-my-request": "fastify's; pinned to a version that supports Node 20" };

/** The environment without npm's own variables (a `npm test` run sets npm_config_* that npm pack would read). */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

t.before(() => {
  // CI's `npm ci` has built dist/ (the prepare script); build when it has not.
  if (!existsSync(path.join(repoRoot, "dist/index.js"))) {
    spawnSync(process.execPath, [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "ignore" });
  }
  if (!existsSync(path.join(repoRoot, "dist/index.js"))) throw new Error("building did not produce dist/index.js");
});

let packed: string[] | null = null;

/** The files `npm pack` would put in the tarball (scripts not run: the list is what package.json selects). */
function packedFiles(): string[] {
  if (packed !== null) return packed;
  const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8", env: userEnv() });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const [report] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  packed = report!.files.map((f) => f.path);
  return packed;
}

t.test("the tarball holds the library, its types, the CLI, the bundled policies and the license text; no tests", async (t) => {
  const files = new Set(packedFiles());
  for (const f of ["package.json", "LICENSE", "dist/index.js", "dist/index.d.ts", "dist/cli/bin.js", "policies/schemas/access.schema.json", "docs/library.md"]) {
    t.ok(files.has(f), f);
  }
  t.same([...files].filter((f) => /^(test|bench|node_modules)\/|^\.npmrc$/.test(f)), []);
});

t.test("every source map ships with the sources it names", async (t) => {
  const files = new Set(packedFiles());
  const missing: string[] = [];
  for (const f of files) {
    if (!f.endsWith(".map")) continue;
    const map = JSON.parse(readFileSync(path.join(repoRoot, f), "utf8")) as { sources: string[]; sourcesContent?: (string | null)[] };
    map.sources.forEach((s, i) => {
      if (typeof map.sourcesContent?.[i] === "string") return;
      const source = path.posix.normalize(path.posix.join(path.posix.dirname(f), s));
      if (!files.has(source)) missing.push(`${f} -> ${source}`);
    });
  }
  t.same(missing.slice(0, 5), [], `${missing.length} maps name sources that are not in the package`);
});

t.test("every runtime dependency is imported by the shipped code", async (t) => {
  // A dependency only the tests or benchmarks use belongs in devDependencies: every user would install it.
  const code = packedFiles()
    .filter((f) => f.startsWith("dist/") && f.endsWith(".js"))
    .map((f) => readFileSync(path.join(repoRoot, f), "utf8"))
    .join("\n");
  for (const dep of Object.keys(pkg.dependencies)) {
    if (dep in PINNED_FOR_A_DEPENDENCY) continue;
    const quoted = dep.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    t.ok(new RegExp(`(from |import\\()"${quoted}(/[^"]*)?"`).test(code), `${dep} is imported from dist/`);
  }
});

t.test("every override is also a direct dependency at the same version: overrides apply in this repository only", async (t) => {
  // npm reads `overrides` of the root project alone; a user's `npm install swarm-policy` ignores ours.
  // Pinned as a dependency too, the version is installed at the top and fastify's range dedupes to it.
  for (const [name, version] of Object.entries(pkg.overrides ?? {})) {
    t.equal(pkg.dependencies[name], version, `${name} is a dependency pinned at ${version}`);
    t.ok(name in PINNED_FOR_A_DEPENDENCY, `${name} has its reason in PINNED_FOR_A_DEPENDENCY`);
  }
  for (const name of Object.keys(PINNED_FOR_A_DEPENDENCY)) t.ok(name in pkg.dependencies, `${name} is still a dependency`);
});

t.test('require("swarm-policy") from CommonJS loads the library (require(esm), Node >= 20.19)', async (t) => {
  // Package self-reference resolves the name through package.json "exports", as in a user's node_modules.
  const r = spawnSync(process.execPath, ["-e", 'const m = require("swarm-policy"); process.stdout.write(`${typeof m.loadPolicies} ${typeof m.compile}`)'], {
    cwd: repoRoot,
    encoding: "utf8",
    env: userEnv(),
  });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, "function function");
});

t.test("the build removes what dist/ holds for deleted sources", async (t) => {
  t.match(pkg.scripts.build, /node scripts\/prune-dist\.mjs/);
  const root = t.testdir({
    src: { "kept.ts": "", cli: { commands: { "check.ts": "" } } },
    dist: {
      "kept.js": "",
      "kept.d.ts": "",
      "kept.js.map": "",
      "kept.d.ts.map": "",
      "gone.js": "",
      "gone.d.ts": "",
      "gone.js.map": "",
      "notes.txt": "",
      cli: { commands: { "check.js": "", "removed-verb.js": "", "removed-verb.d.ts": "" } },
      "removed-dir": { "x.js": "" },
    },
  });
  const r = spawnSync(process.execPath, [path.join(repoRoot, "scripts/prune-dist.mjs"), root], { encoding: "utf8" });
  t.equal(r.status, 0, r.stderr);
  const left = (f: string) => existsSync(path.join(root, "dist", f));
  for (const f of ["kept.js", "kept.d.ts", "kept.js.map", "kept.d.ts.map", "notes.txt", "cli/commands/check.js"]) t.ok(left(f), `${f} kept`);
  for (const f of ["gone.js", "gone.d.ts", "gone.js.map", "cli/commands/removed-verb.js", "cli/commands/removed-verb.d.ts", "removed-dir"]) t.notOk(left(f), `${f} removed`);
});
