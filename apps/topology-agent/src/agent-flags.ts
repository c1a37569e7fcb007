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
  /** Cluster mode: wire the pods of this Kubernetes node from the topologies' Link objects. */
  cluster?: ClusterFlags;
}

export interface ClusterFlags {
  nodeName: string;
  kubeconfig?: string;
  handoffDir: string;
  /** Install the chained CNI plugin into these directories at start. */
  cniBinDir?: string;
  cniConfDir?: string;
  /** Copy the agent's Node runtime here for the plugin (the agent runs in a container). */
  cniRuntimeDir?: string;
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

Cluster mode (the agent on a Kubernetes node; see libs/agent/README.md):
  --node-name <name>         this node's name: turns cluster mode on (default $NODE_NAME when
                             --cluster is given)
  --cluster                  cluster mode with the node name from $NODE_NAME
  --kubeconfig <file>        credentials (default $KUBECONFIG, then in-cluster)
  --cni-handoff-dir <dir>    where the CNI plugin leaves each pod sandbox's namespace
                             (default <state-dir>/pods)
  --cni-bin-dir <dir>        install the chained CNI plugin here at start (with --cni-conf-dir)
  --cni-conf-dir <dir>       and chain it in the first conflist of this directory
  --cni-runtime-dir <dir>    copy the agent's Node runtime into this node directory and run
                             the plugin with it (default: the agent's own, for an agent that
                             runs as a host process)
`;

const agentOptions = {
  "state-dir": { type: "string" },
  "underlay-address": { type: "string" },
  "host-netns": { type: "string" },
  "namespace-scope": { type: "string" },
  "resync-interval": { type: "string" },
  cluster: { type: "boolean" },
  "node-name": { type: "string" },
  kubeconfig: { type: "string" },
  "cni-handoff-dir": { type: "string" },
  "cni-bin-dir": { type: "string" },
  "cni-conf-dir": { type: "string" },
  "cni-runtime-dir": { type: "string" },
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
      const boolean = (agentOptions as Record<string, { type: string }>)[name]!.type === "boolean";
      if (!boolean && !arg.includes("=") && i + 1 < argv.length) mine.push(argv[++i]!);
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
  const nodeName = values["node-name"] ?? (values.cluster ? process.env.NODE_NAME : undefined);
  if (values.cluster && !nodeName) throw new FlagError("--cluster needs the node's name: --node-name or $NODE_NAME");
  for (const flag of ["cni-handoff-dir", "cni-bin-dir", "cni-conf-dir", "cni-runtime-dir"] as const) {
    const v = values[flag];
    if (v !== undefined && !v.startsWith("/")) throw new FlagError(`--${flag} must be an absolute path, got "${v}"`);
    if (v !== undefined && !nodeName) throw new FlagError(`--${flag} needs cluster mode (--node-name or --cluster)`);
  }
  if ((values["cni-bin-dir"] === undefined) !== (values["cni-conf-dir"] === undefined)) throw new FlagError("--cni-bin-dir and --cni-conf-dir go together");
  const cluster: ClusterFlags | undefined = nodeName
    ? {
        nodeName,
        handoffDir: values["cni-handoff-dir"] ?? `${stateDir.replace(/\/+$/, "")}/pods`,
        ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
        ...(values["cni-bin-dir"] ? { cniBinDir: values["cni-bin-dir"], cniConfDir: values["cni-conf-dir"] } : {}),
        ...(values["cni-runtime-dir"] ? { cniRuntimeDir: values["cni-runtime-dir"] } : {}),
      }
    : undefined;
  return {
    agent: {
      ...(cluster ? { cluster } : {}),
      stateDir,
      ...(values["underlay-address"] ? { underlayAddress: values["underlay-address"] } : {}),
      ...(values["host-netns"] ? { hostNetns: values["host-netns"] } : {}),
      ...(scope ? { namespaceScope: scope } : {}),
      ...(resync !== undefined ? { resyncIntervalMs: Number(resync) } : {}),
    },
    rest,
  };
}
