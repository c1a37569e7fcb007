#!/usr/bin/env node
// The `kne` executable: runs the built app (dist/, made by `npm run build`); dist/start.mjs
// (tools/scripts/start-built-app.mjs) checks the runtime first.
import { existsSync } from "node:fs";

const main = new URL("../dist/main.mjs", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`kne: not built (no ${main.pathname}): run 'npm run build' in the repository\n`);
  process.exit(1);
}
const { startBuiltApp } = await import(new URL("../dist/start.mjs", import.meta.url).href);
await startBuiltApp({
  name: "kne",
  main,
  // Source maps only with KNE_DEBUG: an error whose stack is formatted with maps on parses the
  // 1.6 MB map first (~35 ms of a 100-node create, --cpu-prof), and kne shows users messages.
  sourceMaps: Boolean(process.env.KNE_DEBUG),
});
