/**
 * Image overrides of the kubernetes backend: FROM=TO pairs that replace an image reference
 * in the pods the manager makes (node containers, init containers). A cluster that cannot
 * pull the vendors' default images (upstream names such as `alpine:latest` or
 * `networkop/init-wait:latest`) runs images of its own under other names instead, and
 * topologies keep the upstream names they were written with. A reference is replaced only
 * when it equals FROM exactly (tag included); operator custom resources are left as they
 * are (their operator chooses its pods' images).
 */
import type { KubeObject } from "@kne/kube";

export type ImageOverrides = ReadonlyMap<string, string>;

/** A container image reference: registry/path:tag or @digest, no spaces, no '=' or ','. */
const imageReference = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

/**
 * Parses `FROM=TO[,FROM=TO...]`. Throws an Error naming the entry and what is wrong with it
 * (a missing '=', an empty or malformed reference, one FROM mapped to two images).
 */
export function parseImageOverrides(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const entries = text.split(",").map((e) => e.trim());
  entries.forEach((entry, i) => {
    const at = `entry ${i + 1} ${JSON.stringify(entry)}`;
    const eq = entry.indexOf("=");
    if (eq < 0) throw new Error(`${at}: expected FROM=TO (an image reference, '=', the image to run instead)`);
    const from = entry.slice(0, eq).trim();
    const to = entry.slice(eq + 1).trim();
    for (const [side, ref] of [["FROM", from], ["TO", to]] as const) {
      if (!imageReference.test(ref)) throw new Error(`${at}: ${side} ${JSON.stringify(ref)} is not an image reference (such as alpine:latest or localhost/kne/host:0123abcd)`);
    }
    const before = out.get(from);
    if (before !== undefined && before !== to) throw new Error(`${at}: ${from} is already mapped to ${before}`);
    out.set(from, to);
  });
  return out;
}

interface PodSpecJson {
  containers?: Array<{ image?: string }>;
  initContainers?: Array<{ image?: string }>;
}

/** The same objects, with every container image of a Pod that has an override replaced (copies; the input is not changed). */
export function applyImageOverrides(objects: readonly KubeObject[], overrides: ImageOverrides): KubeObject[] {
  if (overrides.size === 0) return [...objects];
  const swap = <C extends { image?: string }>(list: C[] | undefined): C[] | undefined =>
    list?.map((c) => (c.image !== undefined && overrides.has(c.image) ? { ...c, image: overrides.get(c.image)! } : c));
  return objects.map((o) => {
    if (o.kind !== "Pod" || o.apiVersion !== "v1") return o;
    const spec = o["spec"] as PodSpecJson | undefined;
    if (!spec) return o;
    const containers = swap(spec.containers);
    const initContainers = swap(spec.initContainers);
    return { ...o, spec: { ...spec, ...(containers ? { containers } : {}), ...(initContainers ? { initContainers } : {}) } };
  });
}
