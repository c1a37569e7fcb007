/**
 * topology-agent — process entry point: flags, logger, server, SIGINT/SIGTERM.
 * Run `topology-agent --help` for the flags.
 */
import { runServerCommand } from "@kne/rpc";
import { createTopologyAgentApp, topologyAgentCommand } from "./app";

await runServerCommand(topologyAgentCommand, createTopologyAgentApp);
