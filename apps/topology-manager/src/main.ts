/**
 * topology-manager — process entry point: flags, logger, server, SIGINT/SIGTERM.
 * Run `topology-manager --help` for the flags.
 */
import { runServerCommand } from "@kne/rpc";
import { createTopologyManagerApp, topologyManagerCommand } from "./app";

await runServerCommand(topologyManagerCommand, createTopologyManagerApp);
