/** `kne topology watch NAME` — upstream's spelling of `kne watch`. */
import type { Command } from "../command";
import { watchCommand } from "./watch";

export const topologyWatchCommand: Command = {
  words: ["topology", "watch"],
  summary: "Follow a topology's events (upstream's spelling of 'kne watch')",
  help: watchCommand.help.replace(/kne watch/g, "kne topology watch"),
  run: (args, io) => watchCommand.run(args, io),
};
