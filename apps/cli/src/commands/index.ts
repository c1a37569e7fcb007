/** Every `kne` command, in the order `kne --help` lists them. Adding a command is adding it here. */
import type { Command } from "../command";
import { topologyConvertCommand } from "./topology-convert";
import { topologyValidateCommand } from "./topology-validate";
import { versionCommand } from "./version";

export const commands: readonly Command[] = [topologyValidateCommand, topologyConvertCommand, versionCommand];
