import { describe, expect, it } from "vitest";
import { ProgressModel, progressBar, renderError, renderLine, renderLive, renderSummary } from "./progress-view";

function creating(expected = 4): ProgressModel {
  return new ProgressModel({ verb: "creating", topology: "lab", expected, started: 1000 });
}

describe("progress view", () => {
  it("counts nodes per phase against the expected total", () => {
    const m = creating();
    m.update("h1", "pending", "being made", 1000);
    m.update("h2", "pending", "being made", 1000);
    m.update("h1", "ready", "ready", 1500);
    m.update("h3", "starting", "", 1600);
    expect([m.done, m.total]).toEqual([1, 4]);
    expect(m.counts()).toEqual([["ready", 1], ["starting", 1], ["pending", 1]]);
    expect(renderLine(m, 3000)).toBe("  2.0s  1/4 ready, 1 starting, 1 pending");
  });

  it("draws a bar, the elapsed time and the nodes waiting longest, cut to the terminal's width", () => {
    const m = creating();
    m.update("h1", "ready", "", 1100);
    m.update("h2", "ready", "", 1100);
    m.update("h3", "pending", "", 1200);
    m.update("h4", "starting", "", 1400);
    const lines = renderLive(m, 3500, 120);
    expect(lines[0]).toBe("creating lab [##########..........] 2/4 ready, 1 starting, 1 pending  2.5s");
    expect(lines[1]).toBe("  slowest: h3 (pending 2.3s), h4 (starting 2.1s)");
    const narrow = renderLive(m, 3500, 30);
    expect(narrow.every((l) => l.length <= 29)).toBe(true);
    expect(narrow[0]!.endsWith("…")).toBe(true);
  });

  it("reports a failure once, when it happens", () => {
    const m = creating(2);
    expect(m.update("r1", "starting", "", 1000)).toBeUndefined();
    const error = m.update("r1", "failed", "bgpd exited 1", 2500);
    expect(error).toEqual({ node: "r1", message: "bgpd exited 1" });
    expect(m.update("r1", "failed", "bgpd exited 1", 2600)).toBeUndefined();
    expect(renderError(error!, m, 2500)).toBe("  1.5s  r1 failed: bgpd exited 1");
    expect(m.errors).toHaveLength(1);
  });

  it("sums up with the slowest nodes (delete counts stopped nodes)", () => {
    const m = new ProgressModel({ verb: "deleting", topology: "lab", started: 0 });
    m.update("h1", "ready", "", 0);
    m.update("h2", "ready", "", 0);
    m.update("h1", "stopped", "deleted", 400);
    m.update("h2", "stopped", "deleted", 900);
    expect(m.done).toBe(2);
    expect(renderSummary(m, 1000)).toBe("2/2 stopped after 1.0s; slowest: h2 0.9s, h1 0.4s");
    // The watch ended before h3's removal reached it; the delete returned: it is gone too.
    m.update("h3", "ready", "", 0);
    m.complete(1000);
    expect(renderSummary(m, 1000)).toBe("3/3 stopped after 1.0s; slowest: h3 1.0s, h2 0.9s, h1 0.4s");
  });

  it("fills the bar in proportion", () => {
    expect(progressBar(0, 10, 10)).toBe("[..........]");
    expect(progressBar(5, 10, 10)).toBe("[#####.....]");
    expect(progressBar(10, 10, 10)).toBe("[##########]");
    expect(progressBar(0, 0, 4)).toBe("[....]");
  });
});
