import { describe, expect, it } from "vitest";
import { closeOnSignals, FlagError, parseServerFlags, runServerCommand, serverHelp, type ServerCommand } from "./index";
import { captureLogs } from "./test-fixtures";

const command: ServerCommand = {
  name: "test-server",
  description: "Serves tests.",
  defaultPort: 50099,
  services: ["a.v1.AService"],
};

describe("parseServerFlags", () => {
  it("defaults to the command's port on 127.0.0.1", () => {
    expect(parseServerFlags([], command)).toEqual({ help: false, port: 50099, host: "127.0.0.1", logLevel: undefined });
  });

  it("reads --port, --host and --log-level", () => {
    expect(parseServerFlags(["--port", "0", "--host=0.0.0.0", "--log-level", "debug"], command)).toEqual({
      help: false,
      port: 0,
      host: "0.0.0.0",
      logLevel: "debug",
    });
  });

  it("answers --help and -h", () => {
    expect(parseServerFlags(["--help"], command)).toEqual({ help: true });
    expect(parseServerFlags(["-h", "--port", "x"], command)).toEqual({ help: true });
  });

  it.each([
    [["--port", "70000"], /--port must be a number from 0 to 65535, got "70000"/],
    [["--port", "12ab"], /--port must be a number/],
    [["--log-level", "loud"], /--log-level: unknown log level "loud"/],
    [["--nope"], /Unknown option '--nope'/],
    [["extra"], /Unexpected argument 'extra'/],
    [["--host", ""], /--host must not be empty/],
  ])("rejects %j", (args, message) => {
    expect(() => parseServerFlags(args, command)).toThrow(FlagError);
    expect(() => parseServerFlags(args, command)).toThrow(message);
  });

  it("explains every flag and the services in --help", () => {
    const help = serverHelp(command);
    for (const text of ["Usage: test-server [flags]", "--port <n>", "default 50099", "--host", "--log-level", "KNE_LOG_LEVEL", "a.v1.AService", "buf curl"]) {
      expect(help).toContain(text);
    }
  });
});

describe("closeOnSignals", () => {
  it("closes on the first signal and exits 0; a second signal exits 1 at once", async () => {
    const logs = captureLogs();
    const exits: number[] = [];
    let finishClose!: () => void;
    const closed = new Promise<void>((r) => (finishClose = r));
    let closes = 0;
    const dispose = closeOnSignals(
      () => {
        closes++;
        return closed;
      },
      logs.logger,
      (code) => void exits.push(code),
    );
    try {
      process.emit("SIGTERM", "SIGTERM");
      expect(closes).toBe(1);
      process.emit("SIGINT", "SIGINT");
      expect(exits).toEqual([1]);
      finishClose();
      await closed;
      await new Promise((r) => setImmediate(r));
      expect(exits).toEqual([1, 0]);
      expect(closes).toBe(1);
      expect(logs.lines().map((l) => l["msg"])).toEqual(["shutdown requested", "second signal received, exited without waiting"]);
    } finally {
      dispose();
    }
  });
});

describe("runServerCommand", () => {
  function fakeIo(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const exits: number[] = [];
    return {
      io: { argv, stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), exit: (c: number) => void exits.push(c) },
      out,
      err,
      exits,
    };
  }
  const start = async () => ({ close: async () => undefined });

  it("prints help and exits 0", async () => {
    const f = fakeIo(["--help"]);
    expect(await runServerCommand(command, start, f.io)).toBeUndefined();
    expect(f.out.join("")).toContain("Usage: test-server");
    expect(f.exits).toEqual([0]);
  });

  it("exits 2 on a bad command line, pointing at --help", async () => {
    const f = fakeIo(["--port", "x"]);
    await runServerCommand(command, start, f.io);
    expect(f.err.join("")).toBe('test-server: --port must be a number from 0 to 65535, got "x"\nRun "test-server --help" for usage.\n');
    expect(f.exits).toEqual([2]);
  });

  it("exits 1 when the server cannot start", async () => {
    const f = fakeIo(["--log-level", "silent"]);
    await runServerCommand(command, () => Promise.reject(new Error("EADDRINUSE")), f.io);
    expect(f.exits).toEqual([1]);
  });

  it("starts the server with the parsed flags and stops it on SIGTERM", async () => {
    const f = fakeIo(["--port", "0", "--host", "::1", "--log-level", "silent"]);
    const seen: { port: number; host: string }[] = [];
    let closed = false;
    const server = await runServerCommand(
      command,
      async ({ port, host }) => {
        seen.push({ port, host });
        return { close: async () => void (closed = true) };
      },
      f.io,
    );
    expect(server).toBeDefined();
    expect(seen).toEqual([{ port: 0, host: "::1" }]);
    process.emit("SIGTERM", "SIGTERM");
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(true);
    expect(f.exits).toEqual([0]);
  });
});
