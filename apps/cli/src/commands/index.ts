/** Every `kne` command, in the order `kne --help` lists them. Adding a command is adding it here. */
import type { Command } from "../command";
import { applyCommand } from "./apply";
import { createCommand } from "./create";
import { deleteCommand } from "./delete";
import { execCommand } from "./exec";
import { graphCommand } from "./graph";
import { linkClearCommand } from "./link-clear";
import { linkImpairCommand } from "./link-impair";
import { linkListCommand } from "./link-list";
import { linkSetCommand } from "./link-set";
import { listCommand } from "./list";
import { logsCommand } from "./logs";
import { serveCommand } from "./serve";
import { showCommand } from "./show";
import { topologyCertCommand } from "./topology-cert";
import { topologyConvertCommand } from "./topology-convert";
import { topologyGenerateRingCommand } from "./topology-generate-ring";
import { topologyPushCommand } from "./topology-push";
import { topologyResetCommand } from "./topology-reset";
import { topologyServiceCommand } from "./topology-service";
import { topologyValidateCommand } from "./topology-validate";
import { topologyWatchCommand } from "./topology-watch";
import { versionCommand } from "./version";
import { watchCommand } from "./watch";

export const commands: readonly Command[] = [
  createCommand,
  deleteCommand,
  showCommand,
  listCommand,
  applyCommand,
  watchCommand,
  execCommand,
  logsCommand,
  graphCommand,
  linkListCommand,
  linkSetCommand,
  linkImpairCommand,
  linkClearCommand,
  topologyValidateCommand,
  topologyConvertCommand,
  topologyPushCommand,
  topologyResetCommand,
  topologyServiceCommand,
  topologyWatchCommand,
  topologyCertCommand,
  topologyGenerateRingCommand,
  serveCommand,
  versionCommand,
];
