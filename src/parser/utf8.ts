/**
 * Policy files and the schema files they declare are UTF-8 (spec section 1);
 * so are the JSON inputs the CLI and the server read (RFC 8259 section 8.1).
 */
import { isUtf8 } from "node:buffer";

/** Where the first byte that is not UTF-8 stands: its value, offset, 1-based line and column (UTF-16 units, as the parser counts). */
export interface Utf8Fault {
  byte: number;
  offset: number;
  line: number;
  column: number;
}

/** The first bad byte of `bytes`, or undefined when it is all UTF-8. A leading BOM counts no column. */
export function firstBadUtf8(bytes: Uint8Array): Utf8Fault | undefined {
  if (isUtf8(bytes)) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The first byte where decoding and re-encoding differ is the first bad one.
  const back = Buffer.from(buf.toString("utf8"), "utf8");
  let i = 0;
  while (i < buf.length && buf[i] === back[i]) i++;
  const before = buf.subarray(0, i).toString("utf8");
  const lines = (before.charCodeAt(0) === 0xfeff ? before.slice(1) : before).split(/\r\n|\r|\n/); // columns as the parser counts them
  return { byte: buf[i]!, offset: i, line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/**
 * Why `bytes` is not UTF-8 (where its first bad byte is), or undefined.
 * Policy files are UTF-8 (spec section 1). Decoded leniently, a Latin-1
 * `"José"` becomes `"Jos\ufffd"`: a rule comparing with it silently never
 * matches, which for a deny rule is a guardrail gone. So such a file is not
 * read at all (fail closed), and the message says where to look.
 */
export function utf8Problem(bytes: Uint8Array): string | undefined {
  const f = firstBadUtf8(bytes);
  return f === undefined ? undefined : `not valid UTF-8 (byte 0x${f.byte.toString(16).padStart(2, "0")} at line ${f.line}, column ${f.column})`;
}
