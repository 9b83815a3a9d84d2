/**
 * Policy files and the schema files they declare are UTF-8 (spec section 1).
 */
import { isUtf8 } from "node:buffer";

/**
 * Why `bytes` is not UTF-8 (where its first bad byte is), or undefined.
 * Policy files are UTF-8 (spec section 1). Decoded leniently, a Latin-1
 * `"José"` becomes `"Jos\ufffd"`: a rule comparing with it silently never
 * matches, which for a deny rule is a guardrail gone. So such a file is not
 * read at all (fail closed), and the message says where to look.
 */
export function utf8Problem(bytes: Buffer): string | undefined {
  if (isUtf8(bytes)) return undefined;
  // The first byte where decoding and re-encoding differ is the first bad one.
  const back = Buffer.from(bytes.toString("utf8"), "utf8");
  let i = 0;
  while (i < bytes.length && bytes[i] === back[i]) i++;
  const before = bytes.subarray(0, i).toString("utf8");
  const lines = (before.charCodeAt(0) === 0xfeff ? before.slice(1) : before).split(/\r\n|\r|\n/); // columns as the parser counts them
  const column = lines[lines.length - 1]!.length + 1;
  return `not valid UTF-8 (byte 0x${bytes[i]!.toString(16).padStart(2, "0")} at line ${lines.length}, column ${column})`;
}
