// The agent's fast path for link state, both ways it can run: netlink sockets of the agent's
// own process (the default as root) and long-lived `ip -batch` sessions (the fallback).
// Each must apply the change before it resolves, name what it could not find, and let a
// namespace go once its sessions are closed.
import { afterEach, describe, expect, it } from "vitest";
import { routeNetlinkUnavailable } from "@kne/dataplane";
import { LinkStateSessions } from "../src/index.ts";
import { canRun, cleanupAll, fixtureNamespace, interfacesOf, ip } from "./helpers.ts";

const modes = [
  { name: "netlink sockets", netlink: true, skip: routeNetlinkUnavailable() },
  { name: "ip sessions", netlink: false, skip: undefined },
];

describe.skipIf(!canRun)("link state sessions", () => {
  afterEach(cleanupAll);

  for (const mode of modes) {
    it.skipIf(mode.skip !== undefined)(`${mode.name}: applied before it resolves, errors name the device, closed namespaces go`, async () => {
      const sessions = new LinkStateSessions({ netlink: mode.netlink });
      expect(sessions.netlinkUnavailable === undefined).toBe(mode.netlink);
      const ns = await fixtureNamespace(`lss-${mode.netlink ? "nl" : "ip"}`);
      await ip(ns, ["link", "add", "e1", "type", "veth", "peer", "name", "e2"]);
      try {
        for (const up of [true, false, true, false]) {
          await sessions.setLinkState(ns, "e1", up);
          expect((await interfacesOf(ns)).get("e1")?.up).toBe(up);
        }
        const err = await sessions.setLinkState(ns, "e9", true).catch((e: unknown) => e as Error & { code?: string });
        expect(err?.code).toBe("NOT_FOUND");
        expect(err?.message).toContain(`netns ${ns} dev e9`);
        expect(sessions.openNamespaces()).toEqual([ns]);
        await sessions.closeNamespaces([ns]);
        expect(sessions.openNamespaces()).toEqual([]);
        // A request after the close opens a new session or socket.
        await sessions.setLinkState(ns, "e1", true);
        expect((await interfacesOf(ns)).get("e1")?.up).toBe(true);
      } finally {
        await sessions.closeAll();
      }
      expect(sessions.openNamespaces()).toEqual([]);
    });
    if (mode.skip) console.warn(`skipping link state sessions over ${mode.name}: ${mode.skip}`);
  }
});
