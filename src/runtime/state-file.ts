/**
 * Reading a small file the runtime keeps its own state or secrets in (keyring
 * manifest and key files, the KEK usage counter, MFA state and secrets).
 *
 * The file is opened without following a symbolic link (a link would lead out
 * of the private directory whose mode was checked, to a file others may
 * replace) and without blocking (a FIFO planted under the name would otherwise
 * hang the open, and the process, forever). `check` sees the open file's
 * status, so the file checked is the file read; anything but a regular file is
 * refused before a byte is read, and so is one larger than `maxBytes` (a
 * process must not read gigabytes into memory because a state file grew or was
 * replaced). Refusals are `StateFileError`s that name the file, never its
 * content; a missing file is the open's own ENOENT, for the caller to handle.
 */
import { constants, type Stats } from "node:fs";
import { open } from "node:fs/promises";

/** Why a state file was not read. */
export type StateFileProblem = "symlink" | "not-regular" | "too-large";

export class StateFileError extends Error {
  readonly problem: StateFileProblem;
  readonly path: string;
  constructor(problem: StateFileProblem, file: string, maxBytes: number) {
    super(
      problem === "symlink"
        ? `${file} is a symbolic link: it must be a regular file in its own directory`
        : problem === "not-regular"
          ? `${file} is not a regular file`
          : `${file} is too large (over ${maxBytes} bytes) to be one of swarm-policy's files`,
    );
    this.name = "StateFileError";
    this.problem = problem;
    this.path = file;
  }
}

// O_NOFOLLOW and O_NONBLOCK are undefined on Windows, where neither applies.
const FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** The UTF-8 text of `file`, after `check` accepted its status (throw from it to refuse). */
export async function readStateFile(file: string, maxBytes: number, check?: (st: Stats) => void): Promise<string> {
  let handle;
  try {
    handle = await open(file, FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw new StateFileError("symlink", file, maxBytes);
    throw err;
  }
  const chunks: Buffer[] = [];
  try {
    const st = await handle.stat();
    check?.(st);
    if (!st.isFile()) throw new StateFileError("not-regular", file, maxBytes);
    if (st.size > maxBytes) throw new StateFileError("too-large", file, maxBytes);
    // Read until the end, but never more than one chunk past the limit, whatever the file grew to since the stat.
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, Math.max(st.size - total, 0) + 1));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw new StateFileError("too-large", file, maxBytes);
    }
    // Not Buffer.concat: it may copy into Node's shared pool, and these bytes can be key material.
    const all = chunks.length === 1 ? chunks[0]! : Buffer.alloc(total);
    if (chunks.length > 1) chunks.reduce((at, c) => at + c.copy(all, at), 0);
    const text = all.toString("utf8");
    all.fill(0);
    return text;
  } finally {
    for (const c of chunks) c.fill(0);
    await handle.close();
  }
}
