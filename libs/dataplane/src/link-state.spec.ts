import { describe, expect, it } from "vitest";
import { parseMonitorLine, splitMonitorStamp } from "./link-state.ts";

// Lines captured from `ip -o monitor link` (iproute2 6.1) while a veth pair went up and down.
const LINES = [
  "3: a@b: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \\    link/ether e6:53:9a:66:39:4a brd ff:ff:ff:ff:ff:ff",
  "2: b@a: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether d6:83:14:cd:f8:a4 brd ff:ff:ff:ff:ff:ff",
  "3: a@b: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether e6:53:9a:66:39:4a brd ff:ff:ff:ff:ff:ff",
  "Deleted 2: b@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether d6:83:14:cd:f8:a4 brd ff:ff:ff:ff:ff:ff",
];

describe("parseMonitorLine", () => {
  it("reads name, flags, carrier and state", () => {
    expect(parseMonitorLine(LINES[0]!, "kne.t.r1")).toEqual({
      netns: "kne.t.r1",
      ifname: "a",
      ifindex: 3,
      deleted: false,
      flags: ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"],
      adminUp: true,
      carrier: false,
      operState: "LOWERLAYERDOWN",
    });
    expect(parseMonitorLine(LINES[1]!, "n")).toMatchObject({ ifname: "b", adminUp: true, carrier: true, operState: "UP" });
    expect(parseMonitorLine(LINES[2]!, "n")).toMatchObject({ ifname: "a", adminUp: false, carrier: false, operState: "DOWN" });
  });

  it("marks deletions and skips other lines", () => {
    expect(parseMonitorLine(LINES[3]!, "n")).toMatchObject({ ifname: "b", deleted: true });
    expect(parseMonitorLine("    link/ether 00:00:00:00:00:00", "n")).toBeUndefined();
  });
});

describe("splitMonitorStamp", () => {
  it("reads ip -tshort's local-time stamp to the microsecond and leaves the event", () => {
    const line = `[2026-11-27T01:16:24.269420] ${LINES[2]!}`;
    const { epochMs, rest } = splitMonitorStamp(line);
    expect(epochMs).toBeCloseTo(new Date(2026, 10, 27, 1, 16, 24).getTime() + 269.42, 6);
    expect(rest).toBe(LINES[2]);
    expect(parseMonitorLine(line, "n")).toMatchObject({ ifname: "a", adminUp: false });
  });

  it("passes unstamped lines through", () => {
    expect(splitMonitorStamp(LINES[0]!)).toEqual({ rest: LINES[0] });
  });
});
