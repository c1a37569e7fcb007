/**
 * config-bootstrapper — process entry point: flags, logger, server, SIGINT/SIGTERM.
 * Run `config-bootstrapper --help` for the flags.
 */
import { runServerCommand } from "@kne/rpc";
import { createConfigBootstrapperApp, configBootstrapperCommand } from "./app";

await runServerCommand(configBootstrapperCommand, createConfigBootstrapperApp);
