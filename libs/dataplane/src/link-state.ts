/**
 * Link state of endpoints: set admin up/down, read oper state, carrier and counters, wait for
 * a state, and watch changes as they happen (`ip -o monitor link`). Setting one end of a veth
 * down takes the carrier of the other end away at once (NO-CARRIER, LOWERLAYERDOWN); a VXLAN
 * end has no carrier from its peer, so a link set down must be set down on both hosts.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { toolArgv } from "./batch.ts";
import { type CommandRunner, processRunner, toolEnvironment, trySetNice } from "./command-runner.ts";
import { DataplaneError, KernelObjectNotFoundError, translateCommandFailure } from "./errors.ts";
import { type EndpointRef, validateIfname, validateNetnsName } from "./names.ts";
import { type ObservedInterface, parseIpLink } from "./observe.ts";
import { RouteNetlink, routeNetlinkUnavailable } from "./rtnetlink.ts";
import { encodeGetLink, readLinksNetlink } from "./rtnetlink-links.ts";

let reader: RouteNetlink | null | undefined;

/**
 * Reads go through a netlink dump in this process where it can (~0.5 ms instead of ~10 ms
 * for `ip -json -d -s link show`, same result field by field). Each read gets its own
 * socket, closed when done, so that no read holds a namespace someone deletes.
 */
function netlinkReader(): RouteNetlink | undefined {
  if (reader === undefined) reader = routeNetlinkUnavailable() === undefined ? new RouteNetlink({ keepSockets: false }) : null;
  return reader ?? undefined;
}

async function ip(netns: string, args: string[], runner: CommandRunner, object: string): Promise<string> {
  const argv = toolArgv(netns, "ip", args);
  const r = await runner.run(argv[0]!, argv.slice(1));
  if (r.exitCode !== 0) throw translateCommandFailure({ command: argv, stderr: r.stderr, exitCode: r.exitCode, object });
  return r.stdout;
}

function label(ep: EndpointRef): string {
  return `netns ${ep.netns || "(host)"} dev ${ep.ifname}`;
}

/** Admin state of one endpoint (`ip -n NS link set dev IF up|down`). */
export async function setLinkState(ep: EndpointRef, up: boolean, options: { runner?: CommandRunner } = {}): Promise<void> {
  validateNetnsName(ep.netns);
  validateIfname(ep.ifname);
  await ip(ep.netns, ["link", "set", "dev", ep.ifname, up ? "up" : "down"], options.runner ?? processRunner, label(ep));
}

/**
 * RTM_GETLINK for one device by name. Unlike a dump, it makes the kernel run the device's
 * pending link-watch work first: its oper state becomes current, and the notifications of
 * that work (a veth's carrier change, held back up to a second when both ends have the same
 * ifindex) go out now. NOT_FOUND naming the endpoint when there is no such device.
 */
async function askByName(nl: RouteNetlink, ep: EndpointRef, options: { offLoop?: boolean } = {}): Promise<void> {
  try {
    await nl.dump(ep.netns, (seq) => encodeGetLink(ep.ifname, seq), `link show dev ${ep.ifname}`, options);
  } catch (err) {
    // A kernel answer (ENODEV) names the request; a missing namespace is passed on as it is.
    if (err instanceof KernelObjectNotFoundError && err.line !== undefined) throw new KernelObjectNotFoundError(`${label(ep)} does not exist`, { object: label(ep) });
    throw err;
  }
}

/**
 * Makes the kernel apply and announce the pending link-watch work of one device now (see
 * askByName), from the thread pool: callers do not wait on the kernel work it triggers.
 * Without netlink sockets, `ip link show dev` does the same.
 */
export async function refreshLink(ep: EndpointRef): Promise<void> {
  validateNetnsName(ep.netns);
  validateIfname(ep.ifname);
  const nl = netlinkReader();
  if (nl) await askByName(nl, ep, { offLoop: true });
  else await ip(ep.netns, ["link", "show", "dev", ep.ifname], processRunner, label(ep));
}

/** Every interface of a namespace with state and counters (with a `runner`: read by `ip` through it). */
export async function readInterfaces(netns: string, options: { runner?: CommandRunner } = {}): Promise<ObservedInterface[]> {
  validateNetnsName(netns);
  const nl = options.runner ? undefined : netlinkReader();
  if (nl) return readLinksNetlink(nl, netns);
  const stdout = await ip(netns, ["-json", "-details", "-statistics", "link", "show"], options.runner ?? processRunner, `netns ${netns || "(host)"}`);
  return parseIpLink(JSON.parse(stdout.trim() || "[]"), netns);
}

/** One interface; NOT_FOUND when it does not exist (with a `runner`: read by `ip` through it). */
export async function readInterface(ep: EndpointRef, options: { runner?: CommandRunner } = {}): Promise<ObservedInterface> {
  validateNetnsName(ep.netns);
  validateIfname(ep.ifname);
  const nl = options.runner ? undefined : netlinkReader();
  let found: ObservedInterface | undefined;
  if (nl) {
    // Asked for by name first, as `ip link show dev` does, so that its oper state is current.
    // The namespace's dump that follows resolves what a device's entry refers to by name
    // (its bridge, M-DOWN of a peer in the namespace).
    await askByName(nl, ep);
    found = (await readLinksNetlink(nl, ep.netns)).find((i) => i.ifname === ep.ifname);
  } else {
    const stdout = await ip(ep.netns, ["-json", "-details", "-statistics", "link", "show", "dev", ep.ifname], options.runner ?? processRunner, label(ep));
    found = parseIpLink(JSON.parse(stdout.trim() || "[]"), ep.netns)[0];
  }
  if (!found) throw new KernelObjectNotFoundError(`${label(ep)} does not exist`, { object: label(ep) });
  return found;
}

/**
 * Polls until `predicate` holds for the interface; resolves with the state and the time it
 * took. Throws DEADLINE_EXCEEDED (via the last state) after `timeoutMs`.
 */
export async function waitForLinkState(
  ep: EndpointRef,
  predicate: (i: ObservedInterface) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; runner?: CommandRunner } = {},
): Promise<{ state: ObservedInterface; elapsedMs: number }> {
  const started = performance.now();
  const timeout = options.timeoutMs ?? 5000;
  for (;;) {
    const state = await readInterface(ep, options);
    const elapsedMs = performance.now() - started;
    if (predicate(state)) return { state, elapsedMs };
    if (elapsedMs > timeout) {
      throw new DataplaneError("DEADLINE_EXCEEDED", `${label(ep)} did not reach the wanted state within ${timeout} ms (oper ${state.operState}, flags ${state.flags.join(",")})`, { object: label(ep) });
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 5));
  }
}

/** One change seen by `watchLinks`. */
export interface LinkEvent {
  netns: string;
  ifname: string;
  ifindex: number;
  /** The interface was removed. */
  deleted: boolean;
  flags: string[];
  adminUp: boolean;
  carrier: boolean;
  operState: string;
  /** `performance.now()` when the line arrived. */
  at: number;
  /**
   * When `ip monitor` read the kernel's notification, on this process's `performance.now()`
   * scale (from the monitor's own wall-clock stamp): independent of this process's event
   * loop, so it bounds when the kernel made the change more tightly than `at`.
   */
  stampedAt?: number;
}

const STAMP = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\]\s*/;

/** The wall-clock time (ms since the epoch) of an `ip -tshort` stamp at the start of `line`, and the rest. */
export function splitMonitorStamp(line: string): { epochMs?: number; rest: string } {
  const m = STAMP.exec(line);
  if (!m) return { rest: line };
  // ip prints local time.
  const epochMs = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime() + Number(m[7]) / 1000;
  return { epochMs, rest: line.slice(m[0].length) };
}

/** Parses one line of `ip [-tshort] -o monitor link`; undefined for lines that are not link lines. */
export function parseMonitorLine(line: string, netns: string): Omit<LinkEvent, "at" | "stampedAt"> | undefined {
  const m = /^(?:\[[^\]]*\]\s*)?(Deleted\s+)?(\d+):\s+([^:@\s]+)(?:@[^:\s]+)?:\s+<([^>]*)>(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const flags = m[4]!.split(",").filter((f) => f !== "");
  const state = /\bstate\s+(\S+)/.exec(m[5]!)?.[1] ?? "UNKNOWN";
  return {
    netns,
    ifname: m[3]!,
    ifindex: Number(m[2]),
    deleted: m[1] !== undefined,
    flags,
    adminUp: flags.includes("UP"),
    carrier: flags.includes("LOWER_UP"),
    operState: state,
  };
}

export interface LinkWatch {
  /** Resolves once the monitor process runs (netlink subscription follows within a few ms). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchLinksOptions {
  /**
   * Nice value for the monitor process (root only; ignored when not permitted). A monitor
   * that must stamp changes promptly on a busy host (a benchmark's independent observer)
   * runs at -20 so that its wake-up does not wait behind other work.
   */
  nice?: number;
}

/** Streams link changes of a namespace until closed. */
export function watchLinks(netns: string, onEvent: (e: LinkEvent) => void, options: WatchLinksOptions = {}): LinkWatch {
  validateNetnsName(netns);
  const argv = toolArgv(netns, "ip", ["-tshort", "-o", "monitor", "link"]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: toolEnvironment() });
  if (options.nice !== undefined) trySetNice(child.pid, options.nice);
  const rl = createInterface({ input: child.stdout! });
  rl.on("line", (line) => {
    const at = performance.now();
    const { epochMs, rest } = splitMonitorStamp(line);
    const e = parseMonitorLine(rest, netns);
    if (e) onEvent({ ...e, at, ...(epochMs !== undefined ? { stampedAt: epochMs - performance.timeOrigin } : {}) });
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.once("spawn", () => setTimeout(resolve, 50));
    child.once("error", reject);
  });
  return {
    ready,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      rl.close();
    },
  };
}
