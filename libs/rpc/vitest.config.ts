// This package's tests use the shared per-package settings.
export { default } from "../../vitest.package";
