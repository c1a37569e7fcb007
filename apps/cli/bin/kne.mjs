#!/usr/bin/env node
// The `kne` executable: loads the TypeScript sources through tsx (there is no build step).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
