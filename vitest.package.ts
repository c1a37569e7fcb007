// Tests of one package, run from its folder (its `test` and `integration` targets): unit
// specs under src/, integration specs under test/ (root, the kernel, real daemons). The
// workspace-wide run uses vitest.config.ts at the root instead.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.spec.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
