/**
 * Reading a file a policy names (a schema, a test's events file): a regular
 * file of bounded size, read synchronously (checking is synchronous). Opened
 * without blocking, so a path naming a FIFO cannot hang the load (a server's
 * event loop with it), and refused before a byte is read when it is a device
 * (`/dev/zero` would be read until memory runs out), another non-regular file,
 * or larger than `maxBytes`. Errors name the problem, never the content.
 * Symbolic links are followed: schemas in a ConfigMap mount are links.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

const mib = (n: number) => `${Math.round(n / (1024 * 1024))} MiB`;

/** The bytes of `abs`; throws an Error whose message says why not (`code` EISDIR for a directory, as fs does). */
export function readRegularFileSync(abs: string, maxBytes: number): Buffer {
  const fd = openSync(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); // O_NONBLOCK is undefined on Windows
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    if (!st.isFile()) throw new Error("not a regular file");
    if (st.size > maxBytes) throw new Error(`larger than ${mib(maxBytes)}`);
    // Never more than one byte past the limit, whatever the file grew to since the stat.
    let buf = Buffer.alloc(Math.min(maxBytes + 1, st.size + 1));
    let at = 0;
    for (;;) {
      if (at === buf.length) {
        if (at > maxBytes) throw new Error(`larger than ${mib(maxBytes)}`);
        const bigger = Buffer.alloc(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger);
        buf = bigger;
      }
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) return buf.subarray(0, at);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

