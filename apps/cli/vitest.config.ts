// This project's unit tests. Without a config here, vitest (run from this directory by the
// `test` target) picks up the workspace config, whose include globs are relative to the
// workspace root and match nothing from here.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Relative to --dir (the test script passes --dir src).
    include: ["**/*.spec.ts"],
  },
});
