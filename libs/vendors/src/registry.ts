/**
 * The one registry of vendors: an explicit array (vendor modules register nothing on
 * import), and the lookups both backends use — by node (vendor + model), by name or alias,
 * and "can this node run locally?".
 */
import { clone, create } from "@bufbuild/protobuf";
import { topo } from "@kne/proto";
import { alpineVendor } from "./alpine/alpine";
import { aristaVendor } from "./arista/arista";
import { birdVendor } from "./bird/bird";
import { cienaVendor } from "./ciena/ciena";
import { ciscoVendor } from "./cisco/cisco";
import { drivenetsVendor } from "./drivenets/drivenets";
import { BackendRequiredError, UnsupportedModelError, UnsupportedVendorError } from "./errors";
import { forwardVendor } from "./forward/forward";
import { frrVendor } from "./frr/frr";
import { gobgpVendor } from "./gobgp/gobgp";
import { hostVendor } from "./host/host";
import { inClusterProxyVendor } from "./in-cluster-proxy/in-cluster-proxy";
import { juniperVendor } from "./juniper/juniper";
import { keysightVendor } from "./keysight/keysight";
import type { LocalRuntime } from "./local-runtime";
import { nokiaVendor } from "./nokia/nokia";
import { openconfigVendor } from "./openconfig/openconfig";
import { sonicVendor } from "./sonic/sonic";
import type { InterfaceNames, ModelDefinition, ResolvedVendor, VendorDefaults, VendorDefinition } from "./vendor-definition";

/** Every vendor this system knows. Local ones first; then upstream's, in enum order. */
export const vendorRegistry: readonly VendorDefinition[] = Object.freeze([
  hostVendor,
  frrVendor,
  gobgpVendor,
  birdVendor,
  aristaVendor,
  ciscoVendor,
  juniperVendor,
  keysightVendor,
  nokiaVendor,
  openconfigVendor,
  alpineVendor,
  drivenetsVendor,
  forwardVendor,
  inClusterProxyVendor,
  sonicVendor,
  cienaVendor,
]);

const byVendor = new Map(vendorRegistry.map((d) => [d.vendor, d]));
const byName = new Map<string, VendorDefinition>();
for (const d of vendorRegistry) {
  for (const n of [d.name, ...(d.aliases ?? [])]) byName.set(n.toLowerCase(), d);
}

/** Names of every supported vendor (`HOST`, `FRR`, ...), registry order. */
export const supportedVendorNames: readonly string[] = vendorRegistry.map((d) => d.name);

/** Names of the vendors the local backend runs. */
export const localVendorNames: readonly string[] = vendorRegistry.filter((d) => d.local).map((d) => d.name);

/** The `topo.Vendor` enum name of a value, or its number when the enum has no such value. */
export function vendorEnumName(vendor: topo.Vendor): string {
  return topo.VendorSchema.value[vendor]?.name ?? String(vendor);
}

/** A registry row by enum name or alias, case-insensitive (`arista`, `ceos`, `FRR`). */
export function findVendorByName(name: string): VendorDefinition | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** A registry row by enum value; throws `UnsupportedVendorError` listing the supported ones. */
export function requireVendorDefinition(vendor: topo.Vendor, field?: string): VendorDefinition {
  const definition = byVendor.get(vendor);
  if (!definition) throw new UnsupportedVendorError(vendorEnumName(vendor), supportedVendorNames, field);
  return definition;
}

function modelMatches(model: ModelDefinition, name: string): boolean {
  const wanted = name.toLowerCase();
  return model.name.toLowerCase() === wanted || (model.aliases ?? []).some((a) => a.toLowerCase() === wanted);
}

function mergeDefaults(base: VendorDefaults, override: Partial<VendorDefaults> | undefined): VendorDefaults {
  if (!override) return base;
  return {
    ...base,
    ...override,
    services: override.services ?? base.services,
    labels: { ...base.labels, ...override.labels },
    container: { ...base.container, ...override.container },
  };
}

/**
 * The vendor of a node, with its model checked and spelled canonically and the model's
 * defaults merged in. Throws `UnsupportedVendorError` (vendor not in the registry) or
 * `UnsupportedModelError` (model unknown to the vendor, or missing where one is required),
 * both listing what is supported.
 */
export function resolveVendor(node: Pick<topo.Node, "name" | "vendor" | "model">): ResolvedVendor {
  const at = `nodes[${node.name}]`;
  const definition = requireVendorDefinition(node.vendor, `${at}.vendor`);
  const requested = node.model.trim();
  if (definition.models.length === 0) {
    const model = requested || definition.defaultModel;
    return { ...definition, model };
  }
  const name = requested || definition.defaultModel || "";
  const model = name === "" ? undefined : definition.models.find((m) => modelMatches(m, name));
  if (!model) {
    throw new UnsupportedModelError(
      definition.name,
      requested,
      definition.models.map((m) => m.name),
      `${at}.model`,
    );
  }
  return { ...definition, model: model.name, defaults: mergeDefaults(definition.defaults, model.defaults) };
}

/**
 * The local runtime of a node's vendor. Throws what `resolveVendor` throws, and
 * `BackendRequiredError` when the vendor runs only on another backend.
 */
export function requireLocalRuntime(node: Pick<topo.Node, "name" | "vendor" | "model">): LocalRuntime {
  const resolved = resolveVendor(node);
  if (resolved.local) return resolved.local;
  const backend = resolved.requiresBackend ?? "kubernetes";
  const image = resolved.defaults.container?.image;
  const operator = resolved.defaults.container?.customResource;
  const reason = operator
    ? `it is made by its operator from a ${operator.kind} resource`
    : `it runs from a container image${image ? ` (${image})` : ""}`;
  throw new BackendRequiredError(resolved.name, resolved.model, backend, reason, localVendorNames, `nodes[${node.name}].vendor`);
}

/**
 * A copy of the node with its vendor's defaults filled in where the topology leaves them
 * empty, as upstream does before creating a node: the model, the services (all or
 * nothing: a node with services keeps exactly its own) and the labels `vendor`, `model`
 * and the vendor's own (`ondatra-role`). Container settings (image, command, config path)
 * are not copied: they belong to the kubernetes backend (`resolveVendor(node).defaults.container`).
 */
export function withVendorDefaults(node: topo.Node): topo.Node {
  return applyVendorDefaults(clone(topo.NodeSchema, node));
}

/** `withVendorDefaults` on the node itself, for a caller that owns it (no copy). */
export function applyVendorDefaults(node: topo.Node): topo.Node {
  const resolved = resolveVendor(node);
  const out = node;
  if (resolved.model) out.model = resolved.model;
  if (Object.keys(out.services).length === 0) {
    for (const [port, service] of Object.entries(resolved.defaults.services)) {
      out.services[Number(port)] = create(topo.ServiceSchema, {
        name: service.names[0] ?? "",
        names: [...service.names],
        inside: service.inside,
        outside: Number(port),
      });
    }
  }
  const labels: Record<string, string> = { vendor: resolved.name, ...(out.model ? { model: out.model } : {}), ...resolved.defaults.labels };
  for (const [key, value] of Object.entries(labels)) {
    if (out.labels[key] === undefined || out.labels[key] === "") out.labels[key] = value;
  }
  return out;
}

/**
 * Fills the node's `config` and `constraints` with its vendor's container defaults where the
 * topology leaves them empty, as upstream's `defaults()` does before it makes the pod: image,
 * command, args, entry command (with the node's name), config path and file, the default
 * self-signed certificate, and cpu/memory requests. For the views a manager answers with
 * (what a client reads in `node.config`); never written back into the stored topology, and
 * the local backend runs its own processes, not these commands. A vendor or model the
 * registry does not know leaves the node as it is.
 */
export function applyConfigDefaults(node: topo.Node): topo.Node {
  let resolved: ResolvedVendor;
  try {
    resolved = resolveVendor(node);
  } catch {
    return node;
  }
  const d = resolved.defaults.container;
  if (!d) return node;
  const config = (node.config ??= create(topo.ConfigSchema));
  if (config.image === "" && d.image) config.image = d.image;
  if (config.command.length === 0 && d.command) config.command = [...d.command];
  if (config.args.length === 0 && d.args) config.args = [...d.args];
  if (config.entryCommand === "" && d.entryCommand) config.entryCommand = d.entryCommand.replace("%s", node.name);
  if (config.configPath === "" && d.configPath) config.configPath = d.configPath;
  if (config.configFile === "" && d.configFile) config.configFile = d.configFile;
  if (!config.cert && d.cert) {
    const selfSigned = create(topo.SelfSignedCertCfgSchema, {
      certName: d.cert.certName ?? "",
      keyName: d.cert.keyName ?? "",
      keySize: d.cert.keySize,
      commonName: d.cert.commonNameIsNode ? node.name : "",
    });
    config.cert = create(topo.CertificateCfgSchema, { config: { case: "selfSigned", value: selfSigned } });
  }
  for (const [key, value] of Object.entries(d.constraints ?? {})) {
    if ((node.constraints[key] ?? "") === "") node.constraints[key] = value;
  }
  return node;
}

/** A node's interface names as its vendor maps them, with the rule that did it. */
export interface NodeInterfaceNames extends InterfaceNames {
  /** The vendor's enum name (`CIENA`). */
  readonly vendor: string;
  /** The vendor's rule in one line. */
  readonly rule: string;
}

/**
 * Maps the data interface names a topology uses for one node (as written: link ends,
 * segment endpoints, `interfaces` keys) to the Linux interfaces inside the node, by the
 * node's vendor's rule. Two names that land on one Linux interface are refused (the later
 * one), where upstream would silently wire one of them. Undefined for a vendor not in the
 * registry (validation reports that on its own).
 */
export function mapInterfaceNames(node: Pick<topo.Node, "name" | "vendor" | "model" | "interfaces">, names: readonly string[]): NodeInterfaceNames | undefined {
  const definition = byVendor.get(node.vendor);
  if (!definition) return undefined;
  let model: string | undefined;
  try {
    model = resolveVendor(node).model;
  } catch {
    model = node.model.trim() || definition.defaultModel;
  }
  const mapped = definition.interfaceNaming.map({ names, node, model });
  const problems = new Map(mapped.problems);
  const linux = new Map<string, string>();
  const takenBy = new Map<string, string>();
  for (const name of names) {
    const target = mapped.linux.get(name);
    if (target === undefined || linux.has(name)) continue;
    const first = takenBy.get(target);
    if (first !== undefined && first !== name) {
      problems.set(name, `is the Linux interface ${target}, as "${first}" is`);
      continue;
    }
    takenBy.set(target, name);
    linux.set(name, target);
  }
  return { vendor: definition.name, rule: definition.interfaceNaming.rule, linux, problems };
}
