// Tests of this package alone (the workspace config at the root runs every package). The
// smoke test may build the control plane first (many minutes on a new machine), so the
// timeouts are long; the test sets its own per-hook timeouts too, for the root config.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.spec.ts"],
    testTimeout: 20 * 60_000,
    hookTimeout: 20 * 60_000,
    fileParallelism: false,
  },
});
