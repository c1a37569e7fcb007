/**
 * Keysight ixia-c on Kubernetes. "cr": an `IxiaTG` for Keysight's operator, which makes a
 * controller pod, one pod per port and their Services. "pod": those pods made directly —
 * `<node>-controller` (the OTG controller and its gNMI server, behind our Service) and
 * `<node>-port-<interface>` per port (traffic and protocol engines on that interface).
 */
import {
  type ContainerJson,
  type KubeNodeContext,
  type KubeObject,
  type NodeObjects,
  crdName,
  customResourceOf,
  envList,
  kubeProblem,
  namedServices,
  nodeService,
  objectMeta,
  operatorPodSelector,
  pod,
  podModeSelector,
  resourceRequests,
} from "../kube-shape";

/** Label telling the controller pod from the port pods. */
export const KEYSIGHT_ROLE_LABEL = "kne.dev/ixia-role";

/** Images of the pods the operator makes (its release decides the tags). */
export const ixiaImages = {
  controller: "keng-controller:latest",
  gnmiServer: "otg-gnmi-server:latest",
  trafficEngine: "ixia-c-traffic-engine:latest",
  protocolEngine: "ixia-c-protocol-engine:latest",
} as const;

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `<node>-port-<interface>`; fails when the interface name cannot be part of a pod name. */
export function ixiaPortPodName(ctx: KubeNodeContext, eth: string): string {
  const name = `${ctx.node.name}-port-${eth}`;
  if (!dns1123Label.test(name) || name.length > 63) {
    kubeProblem(ctx, `interfaces[${eth}]`, `port pod name ${name} is not a valid pod name (lower-case letters, digits, '-', at most 63 characters)`);
  }
  return name;
}

function ixiaCustomResource(ctx: KubeNodeContext): NodeObjects {
  const cr = customResourceOf(ctx);
  const spec = {
    release: ctx.node.version || "local",
    desired_state: "DEPLOYED",
    api_endpoint_map: Object.fromEntries(namedServices(ctx).map((s) => [s.name, { in: s.inside, out: s.outside }])),
    interfaces: ctx.interfaces.map((name) => {
      const group = ctx.node.interfaces[name]?.group;
      return { name, ...(group ? { group } : {}) };
    }),
    init_container: { image: ctx.initImage, sleep: ctx.sleep },
  };
  return {
    objects: [{ ...cr, metadata: objectMeta(ctx, ctx.node.name), spec }],
    podSelector: operatorPodSelector(ctx),
    expectedPods: ctx.interfaces.length + 1,
    operatorCrd: crdName("ixiatgs", cr.apiVersion),
  };
}

function engine(name: string, image: string, env: Record<string, string>): ContainerJson {
  return {
    name,
    image,
    ...(Object.keys(env).length > 0 ? { env: envList(env) } : {}),
    imagePullPolicy: "IfNotPresent",
    securityContext: { privileged: true },
  };
}

function ixiaPods(ctx: KubeNodeContext): NodeObjects {
  const grpc = namedServices(ctx).find((s) => s.name === "grpc")?.inside ?? 40051;
  const https = namedServices(ctx).find((s) => s.name === "https")?.inside ?? 8443;
  const gnmi = namedServices(ctx).find((s) => s.name === "gnmi")?.inside ?? 50051;
  const controller = pod(ctx, {
    name: `${ctx.node.name}-controller`,
    labels: { [KEYSIGHT_ROLE_LABEL]: "controller" },
    initContainers: [],
    containers: [
      {
        ...engine("keng-controller", ctx.node.config?.image || ixiaImages.controller, {}),
        args: ["--accept-eula", "--http-port", String(https), "--grpc-port", String(grpc)],
        resources: resourceRequests(ctx),
        securityContext: {},
      },
      {
        ...engine("otg-gnmi-server", ixiaImages.gnmiServer, {}),
        args: ["-http-server", `https://localhost:${https}`, "--server-port", String(gnmi)],
        securityContext: {},
      },
    ],
  });
  const ports: KubeObject[] = ctx.interfaces.map((eth) =>
    pod(ctx, {
      name: ixiaPortPodName(ctx, eth),
      labels: { [KEYSIGHT_ROLE_LABEL]: "port" },
      // Each port pod has eth0 and its one data interface.
      initContainers: [
        { name: "init-port", image: ctx.initImage, args: ["2", String(ctx.sleep)], imagePullPolicy: "IfNotPresent" },
      ],
      containers: [
        engine("traffic-engine", ixiaImages.trafficEngine, {
          ARG_IFACE_LIST: `virtual@af_packet,${eth}`,
          OPT_LISTEN_PORT: "5555",
          OPT_NO_HUGEPAGES: "Yes",
        }),
        engine("protocol-engine", ixiaImages.protocolEngine, { INTF_LIST: eth }),
      ],
    }),
  );
  const service = nodeService(ctx, { app: ctx.node.name, [KEYSIGHT_ROLE_LABEL]: "controller" });
  return {
    objects: [controller, ...ports, ...(service ? [service] : [])],
    podSelector: podModeSelector(ctx),
    expectedPods: ctx.interfaces.length + 1,
  };
}

export function keysightKubeObjects(ctx: KubeNodeContext): NodeObjects {
  return ctx.operatorMode === "cr" ? ixiaCustomResource(ctx) : ixiaPods(ctx);
}
