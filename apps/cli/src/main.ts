/**
 * The `kne` executable's entry (bin/kne.mjs loads it): runs the command line against the
 * real process. Everything else lives in run.ts, which tests call in-process.
 */
import { processIo } from "./cli-io";
import { run } from "./run";

// exitCode, not exit(): exit() can cut off output still buffered for a pipe.
process.exitCode = await run(process.argv.slice(2), processIo());
