/**
 * IN_CLUSTER_PROXY on Kubernetes: a netshoot pod on one `eth1` link to the node named by
 * label `proxy-pool-for`, with exactly one service. With labels `peer-ip` (the peer's
 * address, /31 or /127) and `target-port`, eth1 gets the other address of that pair and
 * socat forwards the service's inside port to the peer — each step its own argument list,
 * no shell. Without them the topology's own command runs (upstream warns when it has no socat).
 */
import { isIP } from "node:net";
import { type ContainerJson, type KubeNodeContext, type NodeObjects, defaultNodeObjects, kubeProblem } from "../kube-shape";

interface ProxyPlan {
  ownAddress: string;
  peerAddress: string;
  v6: boolean;
  insidePort: number;
  targetPort: number;
}

/**
 * The other address of a /31 (IPv4) or /127 (IPv6) pair. A bare IPv4 address means /31:
 * label values cannot hold '/', so that is how a validated topology can write it.
 */
export function pairAddress(cidr: string): { own: string; peer: string; v6: boolean } | undefined {
  const [address, bits = isIP(cidr) === 4 ? "31" : undefined] = cidr.split("/");
  if (!address || bits === undefined) return undefined;
  const family = isIP(address);
  if (family === 4 && bits === "31") {
    const octets = address.split(".").map(Number);
    octets[3] = octets[3]! ^ 1;
    return { own: `${octets.join(".")}/31`, peer: address, v6: false };
  }
  if (family === 6 && bits === "127") {
    const full = expandIpv6(address);
    const last = parseInt(full.at(-1)!, 16) ^ 1;
    const own = [...full.slice(0, 7), last.toString(16)].join(":");
    return { own: `${own}/127`, peer: address, v6: true };
  }
  return undefined;
}

function expandIpv6(address: string): string[] {
  const [head, tail] = address.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => g || "0");
}

function plan(ctx: KubeNodeContext): ProxyPlan | undefined {
  const labels = ctx.node.labels;
  const poolFor = labels["proxy-pool-for"];
  if (!poolFor) kubeProblem(ctx, "labels[proxy-pool-for]", "the proxy needs label proxy-pool-for naming the node it serves");
  if (ctx.interfaces.length !== 1 || ctx.interfaces[0] !== "eth1") {
    kubeProblem(ctx, "interfaces", `the proxy needs exactly one link, on eth1 (has ${ctx.interfaces.join(", ") || "none"})`);
  }
  const peer = ctx.node.interfaces["eth1"]?.peerName;
  if (peer && peer !== poolFor) kubeProblem(ctx, "interfaces[eth1]", `eth1 must be linked to ${poolFor}, not ${peer}`);
  const services = Object.values(ctx.node.services);
  if (services.length !== 1) kubeProblem(ctx, "services", `the proxy needs exactly one service (has ${services.length})`);
  const peerIp = labels["peer-ip"];
  const target = labels["target-port"];
  if (!peerIp && !target) return undefined;
  if (!peerIp || !target) kubeProblem(ctx, "labels", "labels peer-ip and target-port go together");
  const pair = pairAddress(peerIp);
  if (!pair) kubeProblem(ctx, "labels[peer-ip]", `"${peerIp}" is not an IPv4 address (a /31 pair) or an IPv6 /127 address`);
  const targetPort = Number(target);
  if (!/^\d+$/.test(target) || targetPort < 1 || targetPort > 65535) kubeProblem(ctx, "labels[target-port]", `"${target}" is not a port`);
  return { ownAddress: pair.own, peerAddress: pair.peer, v6: pair.v6, insidePort: services[0]!.inside, targetPort };
}

export function inClusterProxyKubeObjects(ctx: KubeNodeContext): NodeObjects {
  const p = plan(ctx);
  if (!p) return defaultNodeObjects(ctx);
  const step = (name: string, command: string[]): ContainerJson => ({
    name,
    image: ctx.image,
    command,
    imagePullPolicy: "IfNotPresent",
    securityContext: { privileged: true },
  });
  const listen = p.v6 ? "TCP6-LISTEN" : "TCP-LISTEN";
  const connect = p.v6 ? `TCP6:[${p.peerAddress}]` : `TCP:${p.peerAddress}`;
  const objects = defaultNodeObjects(
    { ...ctx, command: ["socat", "-d", "-d", `${listen}:${p.insidePort},reuseaddr,fork`, `${connect}:${p.targetPort}`], args: [] },
  );
  // The link exists before init containers run (the network is set up with the sandbox), so
  // eth1 is addressed and up before socat starts.
  const podObject = objects.objects.find((o) => o.kind === "Pod")!;
  const spec = podObject.spec as { initContainers: ContainerJson[] };
  spec.initContainers = [
    ...spec.initContainers,
    step("address-eth1", ["ip", "addr", "replace", p.ownAddress, "dev", "eth1"]),
    step("up-eth1", ["ip", "link", "set", "eth1", "up"]),
  ];
  return objects;
}
