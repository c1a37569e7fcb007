/**
 * service-exposer — process entry point: flags, logger, server, SIGINT/SIGTERM.
 * Run `service-exposer --help` for the flags.
 */
import { runServerCommand } from "@kne/rpc";
import { createServiceExposerApp, serviceExposerCommand } from "./app";

await runServerCommand(serviceExposerCommand, createServiceExposerApp);
