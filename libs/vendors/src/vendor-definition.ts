/**
 * What the registry knows about a vendor: static rows (names, models, default services,
 * interface naming, container defaults for the kubernetes backend) and, for vendors that
 * run from the host file system, a local runtime.
 */
import type { topo } from "@kne/proto";
import type { LocalRuntime } from "./local-runtime";

/** A default service of a node, keyed by its outside port in `VendorDefaults.services`. */
export interface ServiceDefault {
  /** Service names; the first is also written to `Service.name` (upstream reads either). */
  readonly names: readonly string[];
  /** Port inside the node. */
  readonly inside: number;
}

/** How the kubernetes backend starts a vendor from a container image (upstream's defaults). */
export interface ContainerDefaults {
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Directory and file name the boot config is mounted at inside the container. */
  readonly configPath?: string;
  readonly configFile?: string;
  /** What `kne` tells a user to run for a shell on the node. `%s` is the node name. */
  readonly entryCommand?: string;
  /** Resource requests when the topology sets no `constraints`. */
  readonly constraints?: Readonly<Record<string, string>>;
  /**
   * The self-signed certificate a node gets when its topology sets no `config.cert`
   * (upstream's default `CertificateCfg`); `commonNameIsNode`: the node's name is the common name.
   */
  readonly cert?: { readonly certName?: string; readonly keyName?: string; readonly keySize: number; readonly commonNameIsNode?: boolean };
  /** Custom resource an operator turns into the pod, when upstream uses one. */
  readonly customResource?: { readonly apiVersion: string; readonly kind: string };
}

/** Defaults of a vendor (or of one of its models, which override the vendor's). */
export interface VendorDefaults {
  /** Outside port → service. Applied when the topology gives the node no services. */
  readonly services: Readonly<Record<number, ServiceDefault>>;
  /** Vendor interface names (`Interface.name`, for example `Ethernet1`); anchored. */
  readonly interfacePattern?: RegExp;
  /** The vendor's name for the management interface (`eth0` on the wire). */
  readonly managementInterface?: string;
  /** Labels the node gets unless the topology sets them (for example `ondatra-role`). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly container?: ContainerDefaults;
}

/** One model of a vendor. Matching is case-insensitive on the name and its aliases. */
export interface ModelDefinition {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** What differs from the vendor's defaults; `services` replaces, the rest merges. */
  readonly defaults?: Partial<VendorDefaults>;
}

/** What a vendor's interface naming looks at: one node and every data interface name its topology uses. */
export interface InterfaceNamingInput {
  /** The names as written: link ends, segment endpoints and `interfaces` keys of this node. */
  readonly names: readonly string[];
  readonly node: Pick<topo.Node, "name" | "interfaces">;
  /** The node's model, canonical (see `ResolvedVendor.model`). */
  readonly model: string | undefined;
}

/** A vendor's answer: the Linux interface of each name it accepts, and why it refuses the others. */
export interface InterfaceNames {
  /** Name as written → Linux interface inside the node (the name itself when not renamed). */
  readonly linux: ReadonlyMap<string, string>;
  /** Name as written → why the vendor refuses it. */
  readonly problems: ReadonlyMap<string, string>;
}

/**
 * How a vendor names its data interfaces in a topology (link ends and `interfaces` keys)
 * and which Linux interface in the node each name is, as upstream's node for that vendor
 * maps them before it creates the pod.
 */
export interface InterfaceNaming {
  /** The rule in one line, named in errors and docs. */
  readonly rule: string;
  readonly map: (input: InterfaceNamingInput) => InterfaceNames;
}

/** The backend a vendor needs when it has no local runtime. */
export type RequiredBackend = "kubernetes";

/** One row of the registry. */
export interface VendorDefinition {
  readonly vendor: topo.Vendor;
  /** The `topo.Vendor` enum name, for example `ARISTA`. */
  readonly name: string;
  /** What it is, for humans: `Arista cEOS`. */
  readonly description: string;
  /** Other names users may type (`ceos`, `srlinux`); unique across the registry. */
  readonly aliases?: readonly string[];
  /** Known models. Empty: any model is accepted and kept as written. */
  readonly models: readonly ModelDefinition[];
  /** The model a node without one gets; absent with models listed: a model is required. */
  readonly defaultModel?: string;
  readonly defaults: VendorDefaults;
  /** Which interface names the vendor takes and the Linux interface each one is. */
  readonly interfaceNaming: InterfaceNaming;
  /** Only Keysight ports may be wired back to back on the same node. */
  readonly allowsSelfLinks?: boolean;
  /** Absent: the vendor cannot run on the local backend (see `requiresBackend`). */
  readonly local?: LocalRuntime;
  /** Why `local` is absent: the backend this vendor needs. */
  readonly requiresBackend?: RequiredBackend;
}

/**
 * A vendor resolved for one node: the registry row, with the node's model in canonical
 * spelling and the model's defaults merged into `defaults`.
 */
export interface ResolvedVendor extends VendorDefinition {
  /** Canonical model name; undefined when the vendor has no models and the node names none. */
  readonly model: string | undefined;
}
