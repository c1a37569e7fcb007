// Tests of this package alone (the workspace config at the root runs every package). The
// chart tests may build helm, kubeconform and a control plane first (many minutes on a new
// machine), so the timeouts are long; each test sets its own too, for the root config.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.spec.ts"],
    testTimeout: 20 * 60_000,
    hookTimeout: 20 * 60_000,
    fileParallelism: false,
  },
});
