#!/usr/bin/env node
// Checks the protos for breaking changes against the previous commit on this branch
// (FILE rules: wire and generated-code compatibility). A repository with one commit has
// nothing to compare with; that is said, not hidden.
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` };
const against = process.env.KNE_BREAKING_AGAINST ?? "HEAD~1";
let base;
try {
  base = execFileSync("git", ["rev-parse", "--verify", "--quiet", `${against}^{commit}`], { cwd: root, encoding: "utf8" }).trim();
} catch {
  console.log(`buf breaking: skipped, no commit ${against} to compare with`);
  process.exit(0);
}
try {
  execFileSync("buf", ["breaking", "--against", `.git#ref=${base},subdir=.`], { cwd: root, env, stdio: "inherit" });
  console.log(`buf breaking: no breaking change against ${base.slice(0, 12)}`);
} catch {
  console.error(`buf breaking: breaking changes against ${base.slice(0, 12)} (see above)`);
  process.exit(1);
}
