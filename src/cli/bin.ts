#!/usr/bin/env node
import { holdEarlyHangups } from "./early-hangup.js";

// Before the CLI's modules load (imported below, not statically, so this runs first):
// a SIGHUP to a starting `serve` is a reload, not the end of the process.
if (process.argv[2] === "serve") holdEarlyHangups();
const { main } = await import("./main.js");
process.exitCode = await main(process.argv);
