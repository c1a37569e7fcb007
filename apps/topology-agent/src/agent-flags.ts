import { parseArgs } from "node:util";
import { FlagError } from "@kne/rpc";

/** Where the agent keeps its desired state unless told otherwise. */
export const defaultStateDir = "/var/lib/kne/agent";

export interface AgentFlags {
  stateDir: string;
  underlayAddress?: string;
  hostNetns?: string;
  namespaceScope?: "topology" | "listed";
  resyncIntervalMs?: number;
}

export const agentFlagsHelp = `
Agent flags:
  --state-dir <dir>          where the desired state is kept across restarts
                             (default ${defaultStateDir})
  --underlay-address <ip>    this host's address for VXLAN tunnels to other hosts
  --host-netns <name>        named network namespace holding the underlay and host interfaces
                             (default: the agent's own namespace)
  --namespace-scope <scope>  topology (default): this agent owns every object of a topology
                             on this kernel; listed: only the namespaces its desired state
                             names (several agents sharing one kernel, e.g. emulated hosts)
  --resync-interval <ms>     re-converge every topology this often (default 10000; 0: never)
`;

const agentOptions = {
  "state-dir": { type: "string" },
  "underlay-address": { type: "string" },
  "host-netns": { type: "string" },
  "namespace-scope": { type: "string" },
  "resync-interval": { type: "string" },
} as const;

/**
 * Takes the agent's own flags out of the command line; the rest (port, host, log level,
 * help) is for the common server flags. Throws FlagError on a bad value.
 */
export function splitAgentFlags(argv: readonly string[]): { agent: AgentFlags; rest: string[] } {
  const rest: string[] = [];
  const mine: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith("--") ? arg.slice(2).split("=")[0]! : "";
    if (name in agentOptions) {
      mine.push(arg);
      if (!arg.includes("=") && i + 1 < argv.length) mine.push(argv[++i]!);
    } else {
      rest.push(arg);
    }
  }
  let values;
  try {
    ({ values } = parseArgs({ args: mine, options: agentOptions, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new FlagError((err as Error).message);
  }
  const scope = values["namespace-scope"];
  if (scope !== undefined && scope !== "topology" && scope !== "listed") throw new FlagError(`--namespace-scope must be topology or listed, got "${scope}"`);
  const resync = values["resync-interval"];
  if (resync !== undefined && !/^\d+$/.test(resync)) throw new FlagError(`--resync-interval must be a number of milliseconds, got "${resync}"`);
  const stateDir = values["state-dir"] ?? defaultStateDir;
  if (!stateDir.startsWith("/")) throw new FlagError(`--state-dir must be an absolute path, got "${stateDir}"`);
  return {
    agent: {
      stateDir,
      ...(values["underlay-address"] ? { underlayAddress: values["underlay-address"] } : {}),
      ...(values["host-netns"] ? { hostNetns: values["host-netns"] } : {}),
      ...(scope ? { namespaceScope: scope } : {}),
      ...(resync !== undefined ? { resyncIntervalMs: Number(resync) } : {}),
    },
    rest,
  };
}
