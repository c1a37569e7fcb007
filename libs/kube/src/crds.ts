/**
 * Installing CustomResourceDefinitions: our own (deploy/crds/kne: Topology, Link, Device)
 * and vendor operators' when asked. Applied server-side, then awaited until the API server
 * reports them Established (only then can objects of the kind be made).
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { KubeClient } from "./kube-client.ts";
import { isNotFound } from "./kube-errors.ts";
import { type KubeObject, resourceTypes } from "./resource-types.ts";

/** deploy/crds/kne of this repository. */
export const kneCrdsDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "deploy", "crds", "kne");

/** Every object in the YAML files of a directory (sorted by file name). */
export async function readManifests(dir: string): Promise<KubeObject[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
  const out: KubeObject[] = [];
  for (const f of files) {
    const path = join(dir, f);
    for (const doc of parseAllDocuments(await readFile(path, "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      if (!obj.kind || !obj.apiVersion || !obj.metadata?.name) throw new Error(`${path}: a manifest without apiVersion, kind or metadata.name`);
      out.push(obj);
    }
  }
  return out;
}

interface CrdStatus {
  status?: { conditions?: Array<{ type: string; status: string; message?: string }> };
}

/** Applies the CRDs and waits until each is Established. */
export async function ensureCrds(client: KubeClient, crds: readonly KubeObject[], timeoutMs = 30_000): Promise<void> {
  await Promise.all(crds.map((crd) => client.apply(crd)));
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const got = await client.get<KubeObject & CrdStatus>(resourceTypes.crd, undefined, crd.metadata.name);
      const established = got.status?.conditions?.find((c) => c.type === "Established");
      if (established?.status === "True") break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after ${timeoutMs} ms: ${established?.message ?? "no condition yet"}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Checks, without changing anything, that the CRDs are installed and Established: for a
 * client allowed only to read CRDs (the Helm chart installs them). The error names each
 * missing CRD and where its manifest lives.
 */
export async function requireCrds(client: KubeClient, crds: readonly KubeObject[]): Promise<void> {
  const problems: string[] = [];
  for (const crd of crds) {
    let got: (KubeObject & CrdStatus) | undefined;
    try {
      got = await client.get<KubeObject & CrdStatus>(resourceTypes.crd, undefined, crd.metadata.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      problems.push(`${crd.metadata.name} is not installed`);
      continue;
    }
    const established = got.status?.conditions?.find((c) => c.type === "Established");
    if (established?.status !== "True") problems.push(`${crd.metadata.name} is not Established (${established?.message ?? "no condition yet"})`);
  }
  if (problems.length > 0) {
    throw new Error(`CustomResourceDefinitions missing: ${problems.join("; ")}; install them (kubectl apply -f deploy/crds/kne, or the Helm chart's crds/) or let the manager install them`);
  }
}

/** Whether a CRD (`<plural>.<group>`) is installed. */
export async function crdInstalled(client: KubeClient, name: string): Promise<boolean> {
  try {
    await client.get(resourceTypes.crd, undefined, name);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
