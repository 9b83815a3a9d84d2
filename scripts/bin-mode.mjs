// After `tsc` (the build): the CLI entry must be executable, or `npx swarm-policy` in a checkout
// (the README's first command) fails with "Permission denied"; tsc writes files 0644.
import { chmodSync, statSync } from "node:fs";

const bin = new URL("../dist/cli/bin.js", import.meta.url);
chmodSync(bin, statSync(bin).mode | 0o111);
