/**
 * Direct control of one endpoint's impairments, outside a reconcile pass (tools, tests, the
 * agent's fast path). A level-triggered caller should instead change its desired state and
 * converge, or the next pass undoes what this did.
 */
import type { KernelOperation } from "./batch.ts";
import { probeKernelFeatures, type KernelFeatures } from "./capabilities.ts";
import { type CommandRunner, processRunner } from "./command-runner.ts";
import { KernelCommandError, KernelObjectNotFoundError } from "./errors.ts";
import { applyOperationsOrThrow } from "./executor.ts";
import { type Impairments, assertFeatures, impairmentOperations, needsLoss, nftDeleteTableScript, validateImpairments } from "./impairments.ts";
import { type EndpointRef, SINK_IFNAME, nftTableName, validateIfname, validateNetnsName, validateTopologyId } from "./names.ts";
import { readInterfaces } from "./link-state.ts";
import { readNftTable } from "./observe.ts";

export interface ImpairmentControlOptions {
  runner?: CommandRunner;
  /** Skips the (cached) kernel probe. */
  features?: KernelFeatures;
}

/**
 * Sets the egress impairments of an endpoint of ours, replacing what it had. Throws
 * `KernelFeatureMissingError` before touching anything when the kernel lacks a feature.
 */
export async function setImpairments(topology: string, ep: EndpointRef, impairments: Impairments, options: ImpairmentControlOptions = {}): Promise<void> {
  validateTopologyId(topology);
  validateNetnsName(ep.netns);
  validateIfname(ep.ifname);
  validateImpairments(impairments);
  const runner = options.runner ?? processRunner;
  const features = options.features ?? (await probeKernelFeatures(runner));
  assertFeatures(impairments, features.available, `netns ${ep.netns || "(host)"} dev ${ep.ifname}`);
  const interfaces = await readInterfaces(ep.netns, { runner });
  const iface = interfaces.find((i) => i.ifname === ep.ifname);
  if (!iface) throw new KernelObjectNotFoundError(`netns ${ep.netns || "(host)"} dev ${ep.ifname} does not exist`, { object: `netns ${ep.netns} dev ${ep.ifname}` });
  if (iface.owner?.topology !== topology) {
    throw new KernelCommandError("FAILED_PRECONDITION", `netns ${ep.netns || "(host)"} dev ${ep.ifname} is not an interface of topology ${topology}`, { object: `netns ${ep.netns} dev ${ep.ifname}` });
  }
  const sinkPresent = interfaces.some((i) => i.ifname === SINK_IFNAME);
  const ops: KernelOperation[] = impairmentOperations(topology, iface.owner.uid, ep, impairments, iface.mtu, sinkPresent);
  await applyOperationsOrThrow(ops, { runner });
  if (!needsLoss(impairments)) await dropEmptyLossTable(topology, ep.netns, runner);
}

/** Removes every impairment of the endpoint. */
export function clearImpairments(topology: string, ep: EndpointRef, options: ImpairmentControlOptions = {}): Promise<void> {
  return setImpairments(topology, ep, {}, options);
}

/** When no loss chain is left in the namespace, removes our table and the sink. */
async function dropEmptyLossTable(topology: string, netns: string, runner: CommandRunner): Promise<void> {
  const table = await readNftTable(netns, nftTableName(topology), runner);
  if (table && table.chains.length > 0) return;
  const ops: KernelOperation[] = [
    { phase: "prepare", tool: "nft", netns, args: nftDeleteTableScript(topology), object: `nft table in netns ${netns || "(host)"}` },
    { phase: "prepare", tool: "ip", netns, args: ["link", "del", "dev", SINK_IFNAME], object: `netns ${netns || "(host)"} dev ${SINK_IFNAME}`, ignore: ["NOT_FOUND"] },
  ];
  await applyOperationsOrThrow(ops, { runner });
}
