/**
 * Two option values that are always a mistake, refused for every verb before
 * its handler runs (exit 2, nothing read or written):
 *
 * - an empty or blank value (`--out "$DIR"` with DIR unset). A path resolved to the
 *   working directory (`mesh plan --out ""` wrote the plan there, `keys list
 *   --policies ""` read every policy below it), `--host ""` listened on every
 *   interface, `--kek ""` used the default KEK.
 * - a value that is one of the command's own flags (`--out --force`):
 *   commander gives an option its next word whatever it is, so the forgotten
 *   value made `mesh keys gen` write the private key to a file named
 *   `--force`. A file that really has such a name is still reachable as
 *   `./--force`.
 */
import type { Command } from "commander";
import { CliError } from "./context.js";

function flagsOf(command: Command): Set<string> {
  const flags = new Set<string>(["--help", "-h"]);
  for (const o of command.options) {
    if (o.long !== undefined) flags.add(o.long);
    if (o.short !== undefined) flags.add(o.short);
  }
  return flags;
}

/** Throws a CliError for an empty or flag-like value given to one of `command`'s options on the command line. */
export function refuseMistakenOptionValues(command: Command): void {
  const flags = flagsOf(command);
  for (const option of command.options) {
    if (!option.required && !option.optional) continue; // a switch: it takes no value
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== "cli") continue; // a default, or from the environment
    const value: unknown = command.getOptionValue(key);
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== "string") continue;
      if (v.trim() === "") throw new CliError(`option '${option.flags}' must not be empty or blank (add --help for usage)`);
      if (flags.has(v.split("=", 1)[0]!)) {
        throw new CliError(`option '${option.flags}' got ${JSON.stringify(v)} as its value: give ${option.long ?? option.short} a value (add --help for usage)`);
      }
    }
  }
}
