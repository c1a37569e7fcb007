import { isIP } from "node:net";
import { FlagError } from "@kne/rpc";

/**
 * Takes `--forward-address IP` (or `--forward-address=IP`) out of the command line; the
 * rest is for the common server flags. Throws FlagError on a value that is not an IP.
 */
export function splitExposerFlags(argv: readonly string[]): { forwardAddress?: string; rest: string[] } {
  const rest: string[] = [];
  let forwardAddress: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--forward-address" || arg.startsWith("--forward-address=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (value === undefined || isIP(value.trim()) === 0) throw new FlagError(`--forward-address must be an IP address of this host (for example 127.0.0.1), got ${JSON.stringify(value ?? "")}`);
      forwardAddress = value.trim();
    } else {
      rest.push(arg);
    }
  }
  return { ...(forwardAddress ? { forwardAddress } : {}), rest };
}
