#!/usr/bin/env node
// The topology-manager process: runs the built app (dist/, made by `npm run build`); dist/start.mjs
// (tools/scripts/start-built-app.mjs) checks the runtime first.
import { existsSync } from "node:fs";

const main = new URL("../dist/main.mjs", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`topology-manager: not built (no ${main.pathname}): run 'npm run build' in the repository\n`);
  process.exit(1);
}
const { startBuiltApp } = await import(new URL("../dist/start.mjs", import.meta.url).href);
await startBuiltApp({
  name: "topology-manager",
  main,
  sourceMaps: true,
});
