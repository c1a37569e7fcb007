/**
 * Chart values from the image build's list (tools/images: images.json): each app's
 * repository and tag, and the manager's image overrides that run the node images built here
 * in place of the vendors' default images (upstream names no registry serves here) and of
 * the init image. What `image-values.sh` prints for `helm install -f`.
 */
import { readFileSync } from "node:fs";
import { DEFAULT_INIT_IMAGE, findVendorByName } from "@kne/vendors";
import { stringify } from "yaml";

/** One entry of images.json (the fields read here). */
export interface ImageListEntry {
  name: string;
  ref: string;
  tag: string;
  vendor?: string;
  app?: string;
}

/** The chart's key of each app's image. */
export const chartImageKeys = {
  "topology-manager": "topologyManager",
  "topology-agent": "topologyAgent",
  "config-bootstrapper": "configBootstrapper",
  "service-exposer": "serviceExposer",
} as const;

/** The image list's name of the nodes' init container image. */
export const INIT_IMAGE_NAME = "init-wait";

export interface ChartImageValues {
  images: Record<string, { repository: string; tag: string }>;
  topologyManager: { imageOverrides: Record<string, string> };
}

/** Reads images.json; throws naming the file and the entry that is not as expected. */
export function readImageList(path: string): ImageListEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message} (the image build writes it: bash tools/images/build.sh)`);
  }
  const images = (parsed as { images?: unknown }).images;
  if (!Array.isArray(images)) throw new Error(`${path}: no "images" array`);
  return images.map((raw: Record<string, unknown>, i) => {
    for (const field of ["name", "ref", "tag"]) {
      if (typeof raw[field] !== "string" || raw[field] === "") throw new Error(`${path}: images[${i}].${field}: missing or not a string`);
    }
    const entry = raw as unknown as ImageListEntry;
    if (!entry.ref.endsWith(`:${entry.tag}`)) throw new Error(`${path}: images[${i}] (${entry.name}): ref ${entry.ref} does not end in its tag ${entry.tag}`);
    return entry;
  });
}

/** The values; throws naming the list when an app image or a listed vendor is unknown. */
export function chartImageValues(list: readonly ImageListEntry[], listName: string): ChartImageValues {
  const byName = new Map(list.map((e) => [e.name, e]));
  const images: ChartImageValues["images"] = {};
  for (const [name, key] of Object.entries(chartImageKeys)) {
    const e = byName.get(name);
    if (!e) throw new Error(`${listName}: no ${name} image (build it: bash tools/images/build.sh)`);
    images[key] = { repository: e.ref.slice(0, -(e.tag.length + 1)), tag: e.tag };
  }
  const imageOverrides: Record<string, string> = {};
  for (const e of list) {
    if (!e.vendor) continue;
    const vendor = findVendorByName(e.vendor);
    if (!vendor) throw new Error(`${listName}: image ${e.name}: unknown vendor ${e.vendor}`);
    const upstream = vendor.defaults.container?.image;
    if (upstream) imageOverrides[upstream] = e.ref;
  }
  const init = byName.get(INIT_IMAGE_NAME);
  if (init) imageOverrides[DEFAULT_INIT_IMAGE] = init.ref;
  return { images, topologyManager: { imageOverrides } };
}

/** The values as a YAML file for `helm install -f`. */
export function chartImageValuesYaml(values: ChartImageValues, listPath: string): string {
  return `# Chart values for the images in ${listPath} (tools/helm-chart/image-values.sh)\n${stringify(values)}`;
}
