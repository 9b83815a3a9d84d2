/**
 * Writing a plan to a directory: the thin I/O edge around plan.ts.
 *
 *   DIR/nodes/<id>/<interface>.conf   wg-quick config (0600: wg-quick warns about wider modes)
 *   DIR/nodes/<id>/<interface>.nft    nftables rules (0644)
 *   DIR/plan.json                     the plan (0644), written last
 *
 * Directories it creates (DIR, nodes/, nodes/<id>/) are 0755 at most.
 *
 * Every file is written atomically (writeFileAtomic), and plan.json last,
 * so a plan.json always describes files that are all there. Files that the
 * previous plan.json in DIR listed and this plan does not write (a node that
 * is now rejected or gone) are removed: a stale config of a rejected node
 * must not look current. Nothing else in DIR is touched, and nothing is
 * written or removed through a symbolic link at `nodes` or `nodes/<id>`.
 * On a failed write the error is returned once every writer has stopped;
 * plan.json is not written, so DIR mixes both plans until a run succeeds.
 *
 * A run that never finishes (killed, the machine down, a full disk) wrote
 * node files that no plan.json lists, and the next run removes only what the
 * previous plan.json listed: the config of a node it rejects would stay in
 * DIR for good. So before the first node file a run writes
 * `DIR/.plan.json.pending`, every file DIR may then hold (the previous
 * plan's, an unfinished run's, this run's), and removes it after plan.json:
 * the next run removes what plan.json and the pending list name and it does
 * not write. A pending list that cannot be read is an error (exit 2), never
 * an empty list that would leave those files behind.
 *
 * Two runs into one DIR take turns: the whole write, from reading the
 * previous plan.json to writing the new one, holds `DIR/.plan.json.lock`
 * (file-lock.ts). Interleaved, the run that finished last wrote a plan.json
 * that did not list the other's node files (a stale config of a node it
 * rejects, never removed) or listed files holding the other's configs.
 */
import { lstat, mkdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { OutputIsSymlinkError, removeStaleTemps, writeFileAtomic } from "../atomic-file.js";
import { withFileLock, type FileLockOptions } from "../file-lock.js";
import { readStateFile } from "../state-file.js";
import { MeshTopology, type MeshPlan } from "./plan.js";
import { PLAN_FORMAT, planToJson, type PlanJson } from "./plan-json.js";
import { renderNft } from "./render-nft.js";
import { renderOptionsProblem, renderWgQuick, type RenderOptions } from "./render-wg.js";

export interface WriteResult {
  /** Files written, relative to the directory, plan.json last. */
  written: string[];
  /** Files of the previous plan that were removed. */
  removed: string[];
  json: PlanJson;
}

const PARALLEL = 16;
/**
 * Directories this writer makes: never group or other writable, whatever the umask (000 too),
 * or any local user could swap a node's config for one whose PostUp runs as root. mkdir's mode
 * is filtered by the umask, so a stricter umask still narrows it.
 */
const DIR_MODE = 0o755;
/** A plan of tens of thousands of nodes is a few MB; the previous plan.json is read only to find its files. */
const MAX_PLAN_JSON_BYTES = 256 * 1024 * 1024;
const OWN_FILE = /^nodes\/[A-Za-z0-9][A-Za-z0-9._-]{0,62}\/[A-Za-z0-9_=+.-]{1,15}\.(conf|nft)$/;

async function previousFiles(dir: string): Promise<string[]> {
  let text: string;
  try {
    // No blocking open (a FIFO there would hang the plan) and no link followed: writing plan.json
    // refuses both anyway, before anything is removed.
    text = await readStateFile(path.join(dir, "plan.json"), MAX_PLAN_JSON_BYTES);
  } catch {
    return [];
  }
  try {
    const old = JSON.parse(text) as Partial<PlanJson>;
    if (old.format !== PLAN_FORMAT || !Array.isArray(old.files)) return [];
    // Only names this writer could have made: never a path out of DIR.
    return old.files.filter((f): f is string => typeof f === "string" && OWN_FILE.test(f));
  } catch {
    return [];
  }
}

/** The files a run may have written before it wrote plan.json: present only while a run is unfinished. */
export const PLAN_PENDING = ".plan.json.pending";
const PENDING_FORMAT = "swarm-policy-mesh-plan-pending";

/** The files an unfinished run listed in DIR/.plan.json.pending; none when there is no such file. */
async function pendingFiles(dir: string): Promise<string[]> {
  const file = path.join(dir, PLAN_PENDING);
  const damaged = (why: string) =>
    new Error(`${file} (the files of a mesh plan run that did not finish) ${why}: check DIR/nodes for configs of nodes the plan no longer admits, then remove it`);
  let text: string;
  try {
    text = await readStateFile(file, MAX_PLAN_JSON_BYTES);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw damaged(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let doc: { format?: unknown; files?: unknown };
  try {
    doc = JSON.parse(text) as { format?: unknown; files?: unknown };
  } catch {
    throw damaged("is not JSON");
  }
  if (typeof doc !== "object" || doc === null || doc.format !== PENDING_FORMAT || !Array.isArray(doc.files) || !doc.files.every((f) => typeof f === "string")) {
    throw damaged("is not a pending list");
  }
  // Only names this writer could have made: never a path out of DIR.
  return (doc.files as string[]).filter((f) => OWN_FILE.test(f));
}

/**
 * Refuse a symbolic link at `nodes` or `nodes/<id>` below DIR: writeFileAtomic refuses a link at
 * the file itself, and a planted directory link must not redirect a write or a removal either.
 * Refuse those directories, and DIR, when group or others may write them (without the sticky
 * bit): whoever can write there can replace a node's config, whose PostUp runs as root. This
 * writer never makes such directories, but they are left as they are when they exist (an earlier
 * version made them 0777 under umask 000; a shared directory). Missing is fine.
 */
async function refuseUnsafeDirs(dir: string, relativeDir: string): Promise<void> {
  const parts = relativeDir === "" ? [] : relativeDir.split("/");
  for (let i = 0; i <= parts.length; i++) {
    const p = path.join(dir, ...parts.slice(0, i));
    const st = await lstat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (st === undefined) continue;
    if (st.isSymbolicLink()) {
      if (i === 0) continue; // DIR itself is the user's to link (the CLI resolves it)
      throw new OutputIsSymlinkError(p);
    }
    if (process.platform !== "win32" && st.isDirectory() && (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
      throw new Error(
        `${p} has mode ${mode}: group or others may write it, and so replace a node's config, whose PostUp runs as root (chmod go-w it: \`chmod go-w DIR DIR/nodes DIR/nodes/*\` for the whole plan)`,
      );
    }
  }
}

/** The lock a run holds on DIR, a dot file so that tools copying DIR's configs pass it by. */
export const PLAN_LOCK = ".plan.json.lock";
/**
 * A large plan takes seconds to write: wait up to a minute for another run, and take its lock
 * over only when its process is gone or after 10 minutes (the default 30 s would break a live one).
 */
const PLAN_LOCK_OPTIONS: FileLockOptions = { timeoutMs: 60_000, staleMs: 600_000 };

/** Write the plan's configs, rules and plan.json into `dir` (created if missing). `lock`: tests. */
export async function writePlan(plan: MeshPlan, dir: string, options: RenderOptions, lock: FileLockOptions = PLAN_LOCK_OPTIONS): Promise<WriteResult> {
  // The interface names files under DIR, and the key and nft files are run by PostUp and PreUp: refused before any write.
  const problem = renderOptionsProblem(options);
  if (problem !== null) throw new Error(problem);
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  return withFileLock(path.join(dir, PLAN_LOCK), () => writeLocked(plan, dir, options), lock);
}

async function writeLocked(plan: MeshPlan, dir: string, options: RenderOptions): Promise<WriteResult> {
  const topology = MeshTopology.of(plan);
  const old = [...new Set([...(await previousFiles(dir)), ...(await pendingFiles(dir))])];
  const files: string[] = [];
  for (const n of plan.nodes) files.push(`nodes/${n.id}/${options.interface}.conf`, `nodes/${n.id}/${options.interface}.nft`);
  // Every directory the run writes or removes in, before anything is written or removed (each is
  // checked again as it is used, against one planted meanwhile).
  await refuseUnsafeDirs(dir, "nodes");
  for (const d of new Set([...files, ...old].map((f) => path.posix.dirname(f)))) await refuseUnsafeDirs(dir, d);
  // Before any node file: if this run never finishes, the next one knows what DIR may hold.
  const pending = path.join(dir, PLAN_PENDING);
  await writeFileAtomic(pending, JSON.stringify({ format: PENDING_FORMAT, files: [...new Set([...old, ...files])] }) + "\n", { mode: 0o644 });

  // After the first failure no worker takes another node, and the error is returned only when
  // every worker has stopped: nothing is written into DIR after the caller hears of the failure.
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (failed || i >= plan.nodes.length) return;
      const node = plan.nodes[i]!;
      const nodeDir = path.join(dir, "nodes", node.id);
      await refuseUnsafeDirs(dir, `nodes/${node.id}`);
      await mkdir(nodeDir, { recursive: true, mode: DIR_MODE });
      await refuseUnsafeDirs(dir, `nodes/${node.id}`); // and not one planted meanwhile
      await writeFileAtomic(path.join(nodeDir, `${options.interface}.conf`), renderWgQuick(plan, topology, i, options), { mode: 0o600 });
      await writeFileAtomic(path.join(nodeDir, `${options.interface}.nft`), renderNft(plan, topology, i, options), { mode: 0o644 });
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(PARALLEL, plan.nodes.length) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure !== undefined) throw failure.reason;

  const keep = new Set(files);
  const removed: string[] = [];
  for (const f of old) {
    if (keep.has(f)) continue;
    await refuseUnsafeDirs(dir, path.posix.dirname(f));
    const there = await rm(path.join(dir, f)).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return false; // an unfinished run's file it never wrote, or removed by hand
        throw err;
      },
    );
    await removeStaleTemps(path.join(dir, f)); // a killed run's half-written one, so the directory can go
    if (there) removed.push(f);
    await rmdir(path.dirname(path.join(dir, f))).catch(() => undefined); // only when now empty
  }

  const json = planToJson(plan, options.interface, files);
  await writeFileAtomic(path.join(dir, "plan.json"), JSON.stringify(json, null, 2) + "\n", { mode: 0o644 });
  await rm(pending, { force: true });
  return { written: [...files, "plan.json"], removed, json };
}
