#!/usr/bin/env node
// The per-topology supervisor process (started detached by the local backend): loads the
// TypeScript sources through tsx (there is no build step).
import { register } from "tsx/esm/api";

register();
await import("../src/local/supervisor-main.ts");
