// Lint for the whole workspace: typescript-eslint's recommended rules, and Nx module
// boundaries (apps depend on libs, libs never on apps, no cycles; only the agent, the
// manager's local backend and apps touch the Linux data plane).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import nx from "@nx/eslint-plugin";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/gen/**", "**/.nx/**", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "@nx": nx },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@nx/enforce-module-boundaries": [
        "error",
        {
          enforceBuildableLibDependency: false,
          allow: [],
          banTransitiveDependencies: false,
          depConstraints: [
            { sourceTag: "type:app", onlyDependOnLibsWithTags: ["type:lib"] },
            { sourceTag: "type:lib", onlyDependOnLibsWithTags: ["type:lib"] },
            { sourceTag: "type:tool", onlyDependOnLibsWithTags: ["type:lib"] },
            { sourceTag: "scope:shared", onlyDependOnLibsWithTags: ["scope:shared"] },
            { sourceTag: "scope:dataplane", onlyDependOnLibsWithTags: ["scope:shared", "scope:dataplane"] },
            { sourceTag: "scope:backend", onlyDependOnLibsWithTags: ["scope:shared", "scope:dataplane", "scope:backend"] },
          ],
        },
      ],
    },
  },
);
