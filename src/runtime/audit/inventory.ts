/**
 * Reading an inventory file or stream as records, in bounded memory
 * (record-scanner.ts says how the bytes are split). A file is opened before
 * the first record is asked for, so a missing file fails at once, not
 * halfway through a report. Every failure of the whole input is an
 * InventoryError whose message names the inventory (and the line, where
 * there is one): `inventory.json:7: unexpected "," in the JSON array`.
 */
import { createReadStream } from "node:fs";
import { InventoryError, RecordScanner, type ScannedRecord, type ScannerOptions } from "./record-scanner.js";

export { InventoryError, type ScannedRecord, type InventoryFormat } from "./record-scanner.js";

export interface ReadInventoryOptions extends ScannerOptions {
  /** How messages name the inventory (default "inventory"). */
  readonly label?: string;
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case "ENOENT":
      return "no such file or directory";
    case "EISDIR":
      return "is a directory";
    case "EACCES":
      return "permission denied";
    default:
      return e instanceof Error ? e.message : String(err);
  }
}

/** Stream the records of the bytes `input` yields (a file stream, stdin). */
export async function* readInventory(input: AsyncIterable<Uint8Array | string>, options: ReadInventoryOptions = {}): AsyncGenerator<ScannedRecord> {
  const label = options.label ?? "inventory";
  const scanner = new RecordScanner(options);
  const encoder = new TextEncoder();
  try {
    for await (const chunk of input) yield* scanner.push(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    yield* scanner.end();
  } catch (err) {
    if (err instanceof InventoryError) {
      throw new InventoryError(`${label}${err.line === null ? "" : `:${err.line}`}: ${err.message}`, err.line);
    }
    throw new InventoryError(`cannot read inventory ${label}: ${reason(err)}`);
  }
}

/** Records the caller holds already (a list, a generator), numbered by position from line 1. */
export async function* recordsOf(records: Iterable<unknown> | AsyncIterable<unknown>): AsyncGenerator<ScannedRecord> {
  let index = 0;
  if (Symbol.asyncIterator in records) {
    for await (const value of records) yield { line: index + 1, index: index++, value };
    return;
  }
  // Not `for await`: over a list it awaits each record, so a record with a `then` (a throwing
  // getter, a revoked Proxy) would be resolved as a promise, or end the audit with its exception.
  for (const value of records) yield { line: index + 1, index: index++, value };
}

/** Open `file` and stream its records; InventoryError when it cannot be opened or read. */
export async function openInventory(file: string, options: ReadInventoryOptions = {}): Promise<AsyncGenerator<ScannedRecord>> {
  const label = options.label ?? file;
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once("ready", () => resolve());
      stream.once("error", reject);
    });
  } catch (err) {
    throw new InventoryError(`cannot read inventory ${label}: ${reason(err)}`);
  }
  const records = readInventory(stream, { ...options, label });
  return (async function* () {
    try {
      yield* records;
    } finally {
      stream.destroy();
    }
  })();
}
