// Tests of this package alone (the workspace config at the root runs every package):
// unit specs beside the code, and integration specs under test/ that need root and the kernel.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.spec.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files share one kernel, and their measurements (loss, rate) want a quiet host.
    fileParallelism: false,
  },
});
