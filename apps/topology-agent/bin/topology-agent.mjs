#!/usr/bin/env node
// The topology-agent process: runs the built app (dist/, made by `npm run build`).
//
// Plain JavaScript that even an old Node parses: the runtime check must be able to speak
// before anything that needs a newer one loads (hence no named imports and a dynamic import).
import module from "node:module";
import { existsSync } from "node:fs";

const name = "topology-agent";
const neededMajor = 24; // the root package.json's engines
const found = process.versions.node;
if (Number(found.split(".")[0]) < neededMajor) {
  process.stderr.write(`${name}: needs Node.js ${neededMajor} or newer, found ${found} (${process.execPath})\n`);
  process.exit(1);
}
const main = new URL("../dist/main.mjs", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`${name}: not built (no ${main.pathname}): run 'npm run build' in the repository\n`);
  process.exit(1);
}
// Compiled code cached on disk (the OS temp dir, or NODE_COMPILE_CACHE): later starts skip parsing.
module.enableCompileCache();
// Stack traces name the TypeScript sources (dist/*.map).
process.setSourceMapsEnabled(true);
await import(main.href);
