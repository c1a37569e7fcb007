// One run of every test in the workspace: unit tests (`src/**/*.spec.ts`, no privileges)
// and integration tests (`test/**/*.int.spec.ts`: root, the kernel, real daemons), which
// run one file at a time because they share the kernel.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["libs/*/src/**/*.spec.ts", "apps/*/src/**/*.spec.ts", "tools/*/src/**/*.spec.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["libs/*/test/**/*.int.spec.ts", "apps/*/test/**/*.int.spec.ts", "tools/*/test/**/*.int.spec.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
