// This project's own test runs (`nx test`, `nx integration`): without this file vitest
// would pick up the workspace config, whose include patterns are relative to the
// repository root and so match nothing from here. Patterns are relative to `--dir`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { include: ["**/*.spec.ts"] },
});
