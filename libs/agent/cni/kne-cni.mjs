#!/usr/bin/env node
// kne-cni: the topology agent's chained CNI plugin (CNI spec 1.0). Installed by the agent
// into the node's CNI bin directory and appended to the node's conflist after the cluster's
// own plugin. It makes no interface and never touches eth0: on ADD it writes the pod's
// network namespace and identity into the agent's handoff directory (one small file per
// sandbox, written atomically) and returns the previous plugin's result unchanged; the agent
// (which watches that directory and re-reads it at start) wires the pod's data interfaces.
//
// Failure behaviour, on purpose: ADD does not depend on the agent running. It fails only when
// it cannot write its handoff file (then the runtime undoes the whole chain, eth0 included,
// and the kubelet retries the sandbox), so a stopped or restarting agent never blocks pods nor
// leaves one with a broken primary network; the agent wires the pod whenever it reads the file.
// DEL removes the file and succeeds when there is nothing to remove. Node's standard library
// only: this file runs on the node without the repository's packages.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";

const SUPPORTED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"];
const DEFAULT_HANDOFF_DIR = "/var/lib/kne/agent/pods";
// CNI spec: a container id starts with an alphanumeric and holds alphanumerics, '_', '.', '-'.
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
const DNS_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

class CniError extends Error {
  constructor(code, msg, details = "") {
    super(msg);
    this.code = code;
    this.details = details;
  }
}

function readStdin() {
  try {
    return readFileSync(0, "utf8");
  } catch (err) {
    throw new CniError(5, "kne-cni: could not read the network configuration from stdin", String(err));
  }
}

function parseConfig(text) {
  let config;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new CniError(6, "kne-cni: the network configuration on stdin is not JSON", String(err));
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new CniError(7, "kne-cni: the network configuration must be a JSON object");
  if (config.handoffDir !== undefined && (typeof config.handoffDir !== "string" || !isAbsolute(config.handoffDir))) {
    throw new CniError(7, `kne-cni: handoffDir ${JSON.stringify(config.handoffDir)} must be an absolute path`);
  }
  return config;
}

/** CNI_ARGS: `K=V;K=V` (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID from the kubelet's runtime). */
function parseCniArgs(text) {
  const out = {};
  for (const part of (text ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function requireEnv(name) {
  const v = process.env[name];
  if (!v) throw new CniError(4, `kne-cni: ${name} is not set`);
  return v;
}

function containerId() {
  const id = requireEnv("CNI_CONTAINERID");
  if (!CONTAINER_ID_RE.test(id)) throw new CniError(4, `kne-cni: CNI_CONTAINERID ${JSON.stringify(id)} is not a valid container id`);
  return id;
}

function handoffPath(config, id) {
  return join(config.handoffDir ?? DEFAULT_HANDOFF_DIR, `${id}.json`);
}

/** The pod this sandbox belongs to, or undefined for a sandbox that is not a Kubernetes pod. */
function podIdentity() {
  const args = parseCniArgs(process.env.CNI_ARGS);
  const namespace = args.K8S_POD_NAMESPACE;
  const name = args.K8S_POD_NAME;
  if (!namespace || !name) return undefined;
  if (!DNS_NAME_RE.test(namespace) || !DNS_NAME_RE.test(name)) throw new CniError(4, `kne-cni: pod ${JSON.stringify(namespace)}/${JSON.stringify(name)} in CNI_ARGS is not a valid pod name`);
  return { namespace, name, uid: args.K8S_POD_UID ?? "" };
}

function result(config) {
  if (config.prevResult === undefined || config.prevResult === null) {
    throw new CniError(7, "kne-cni: no prevResult: kne-cni is a chained plugin and must follow the cluster's own plugin in a conflist");
  }
  // The previous plugin's result, unchanged: this plugin adds nothing the runtime must know.
  return { ...config.prevResult, cniVersion: config.cniVersion ?? config.prevResult.cniVersion };
}

function add(config) {
  const out = result(config);
  const id = containerId();
  const netns = requireEnv("CNI_NETNS");
  if (!isAbsolute(netns)) throw new CniError(4, `kne-cni: CNI_NETNS ${JSON.stringify(netns)} must be an absolute path`);
  const pod = podIdentity();
  if (pod) {
    const path = handoffPath(config, id);
    const record = { containerId: id, netns, ifName: process.env.CNI_IFNAME ?? "", podNamespace: pod.namespace, podName: pod.name, podUid: pod.uid, addedAt: new Date().toISOString() };
    try {
      mkdirSync(config.handoffDir ?? DEFAULT_HANDOFF_DIR, { recursive: true, mode: 0o700 });
      writeFileSync(`${path}.tmp`, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    } catch (err) {
      throw new CniError(11, `kne-cni: could not write the handoff file ${path}; the runtime will retry the sandbox`, String(err));
    }
  }
  return out;
}

function del(config) {
  const id = containerId();
  rmSync(handoffPath(config, id), { force: true });
  rmSync(`${handoffPath(config, id)}.tmp`, { force: true });
  return undefined;
}

function check(config) {
  result(config);
  const id = containerId();
  if (!podIdentity()) return undefined;
  let record;
  try {
    record = JSON.parse(readFileSync(handoffPath(config, id), "utf8"));
  } catch (err) {
    throw new CniError(3, `kne-cni: no handoff file for container ${id}`, String(err));
  }
  const netns = requireEnv("CNI_NETNS");
  if (record.netns !== netns) throw new CniError(3, `kne-cni: container ${id} was handed off with network namespace ${record.netns}, not ${netns}`);
  return undefined;
}

function main() {
  const command = process.env.CNI_COMMAND;
  if (command === "VERSION") {
    return { cniVersion: "1.0.0", supportedVersions: SUPPORTED_VERSIONS };
  }
  const config = parseConfig(readStdin());
  if (config.cniVersion !== undefined && !SUPPORTED_VERSIONS.includes(config.cniVersion)) {
    throw new CniError(1, `kne-cni: cniVersion ${JSON.stringify(config.cniVersion)} is not supported (${SUPPORTED_VERSIONS.join(", ")})`);
  }
  switch (command) {
    case "ADD":
      return add(config);
    case "DEL":
      return del(config);
    case "CHECK":
      return check(config);
    default:
      throw new CniError(4, `kne-cni: CNI_COMMAND ${JSON.stringify(command ?? "")} must be ADD, DEL, CHECK or VERSION`);
  }
}

try {
  const out = main();
  if (out !== undefined) process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (err) {
  const e = err instanceof CniError ? err : new CniError(999, `kne-cni: ${String(err)}`);
  process.stdout.write(`${JSON.stringify({ cniVersion: "1.0.0", code: e.code, msg: e.message, ...(e.details ? { details: e.details } : {}) })}\n`);
  process.exitCode = 1;
}
