/**
 * IN_CLUSTER_PROXY: exactly one data interface, `eth1`, which its socat proxy addresses
 * (upstream refuses any other and any second one).
 */
import type { InterfaceNaming } from "../vendor-definition";

export const inClusterProxyInterfaceNaming: InterfaceNaming = {
  rule: "exactly one data interface, eth1",
  map: ({ names }) => {
    const linux = new Map<string, string>();
    const problems = new Map<string, string>();
    for (const name of new Set(names)) {
      if (name === "eth1") linux.set(name, name);
      else problems.set(name, "is not eth1, the proxy's one interface");
    }
    return { linux, problems };
  },
};
