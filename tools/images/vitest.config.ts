// Tests of this package alone (the workspace config at the root runs every package). The
// integration test may build every image first (minutes on a new machine), so timeouts are long.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.spec.ts"],
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
    fileParallelism: false,
  },
});
