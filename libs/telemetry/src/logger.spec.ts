import { afterEach, describe, expect, it } from "vitest";
import { createLogger, logLevelEnv, parseLogLevel } from "./index";

function capture(): { lines: () => Record<string, unknown>[]; write: (msg: string) => void } {
  const chunks: string[] = [];
  return {
    write: (msg) => void chunks.push(msg),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe("createLogger", () => {
  const saved = process.env[logLevelEnv];
  afterEach(() => {
    if (saved === undefined) delete process.env[logLevelEnv];
    else process.env[logLevelEnv] = saved;
  });

  it("writes one JSON object per line with name, label level, ISO time and fields", () => {
    const out = capture();
    const logger = createLogger({ name: "test", level: "info", destination: out });
    logger.info({ topology: "t1", node: "r1" }, "node created");
    logger.debug("not written at info");
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ name: "test", level: "info", msg: "node created", topology: "t1", node: "r1" });
    expect(typeof line?.["time"]).toBe("string");
    expect(Number.isNaN(Date.parse(String(line?.["time"])))).toBe(false);
  });

  it("takes the level from KNE_LOG_LEVEL unless one is given", () => {
    process.env[logLevelEnv] = "debug";
    expect(createLogger({ name: "a", destination: capture() }).level).toBe("debug");
    expect(createLogger({ name: "a", level: "warn", destination: capture() }).level).toBe("warn");
    delete process.env[logLevelEnv];
    expect(createLogger({ name: "a", destination: capture() }).level).toBe("info");
  });

  it("rejects an unknown level naming the accepted ones", () => {
    expect(() => parseLogLevel("verbose")).toThrow(/unknown log level "verbose": expected one of fatal, error/);
    expect(parseLogLevel(" DEBUG ")).toBe("debug");
    process.env[logLevelEnv] = "loud";
    expect(() => createLogger({ name: "a", destination: capture() })).toThrow(/unknown log level "loud"/);
  });
});
