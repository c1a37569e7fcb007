// Tests of this package alone (the workspace config at the root runs every package):
// unit specs beside the code, and integration specs under test/ that need root, network
// namespaces and the routing daemons (frr, gobgpd, bird2).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.spec.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration files share one kernel and the CPU; convergence times are measured.
    fileParallelism: false,
  },
});
