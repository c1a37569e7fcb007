/**
 * topology-manager — process entry point: flags, logger, server, SIGINT/SIGTERM.
 * Run `topology-manager --help` for the flags.
 */
import { runTopologyManager } from "./run";

await runTopologyManager();
