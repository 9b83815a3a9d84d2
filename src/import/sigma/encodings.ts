/**
 * The encoding modifiers (Sigma modifiers appendix, "Encoding"), applied in
 * the order the rule lists them: `wide` / `utf16le`, `utf16be`, `utf16`
 * (a byte order mark, then little-endian) turn the text into bytes, and
 * `base64` / `base64offset` turn bytes into the text to look for.
 *
 * `base64offset` is pySigma's: a value inside a longer encoded string
 * appears in one of three shapes, depending on its byte offset modulo 3;
 * each shape is the encoding of the value shifted by 0, 1 or 2 bytes with
 * the characters that depend on the neighbours cut off. The shapes are
 * alternatives. Base64 text is matched case-sensitively.
 */
import { fail } from "./model.js";

export const ENCODERS = new Set(["wide", "utf16le", "utf16be", "utf16", "base64", "base64offset"]);

function utf16(s: string, bigEndian: boolean): Buffer {
  const b = Buffer.from(s, "utf16le");
  if (bigEndian) b.swap16();
  return b;
}

/** The texts to search for (alternatives) after the encoding modifiers in `order`. */
export function encodeValue(value: string, order: string[]): string[] {
  let bytes: Buffer = Buffer.from(value, "utf8");
  for (const m of order) {
    switch (m) {
      case "wide":
      case "utf16le":
        bytes = utf16(value, false);
        break;
      case "utf16be":
        bytes = utf16(value, true);
        break;
      case "utf16":
        bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), utf16(value, false)]);
        break;
      case "base64":
        return [bytes.toString("base64")];
      case "base64offset": {
        const starts = [0, 2, 3];
        const ends = [undefined, -3, -2];
        return [0, 1, 2].map((i) => {
          const shifted = Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString("base64");
          return shifted.slice(starts[i], ends[(bytes.length + i) % 3]);
        });
      }
    }
  }
  fail(`\`${order[order.length - 1]}\` needs a following \`base64\` or \`base64offset\``);
}
