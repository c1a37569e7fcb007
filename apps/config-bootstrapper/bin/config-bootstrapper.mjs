#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx); `npm run build` makes a bundled dist/main.mjs.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
