#!/usr/bin/env node
// Prints the closing line of the test run from vitest's JSON reports:
// "tests: N passed, N failed, N skipped". Exits non-zero when a test failed or none ran.
import { readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests ?? 0;
  // A file that fails to load has no tests of its own: count it as a failure.
  failed += report.numFailedTests ?? 0;
  for (const result of report.testResults ?? []) {
    const assertions = result.assertionResults ?? [];
    if (result.status === "failed" && !assertions.some((a) => a.status === "failed")) failed += 1;
  }
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
