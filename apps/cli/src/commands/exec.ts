/** `kne exec NAME NODE [-it] -- CMD...` — run a command inside a node. */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { parseArgs } from "node:util";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { managerv1 } from "@kne/proto";
import { ExitCode, type CliIo } from "../cli-io";
import { parseDuration, reportError, topologyName } from "../cli-support";
import type { Command } from "../command";
import { type ManagerConnection, SERVER_ENV, connectionHelp, connectionOptions, withManager } from "../manager-client";
import { UsageError } from "../usage-error";

export const execCommand: Command = {
  words: ["exec"],
  summary: "Run a command inside a node (-it for a shell or any interactive command)",
  help: `Run a command inside a node's network namespace (argument array, no shell) and print
its output; kne exits with the command's exit status. In an FRR node, 'vtysh' talks to
that node's daemons (kne adds the node's --vty_socket).

Without -i, the command's standard input is passed on when it is not a terminal, and
its output is printed when it ends. With -i (or -it) input and output stream while the
command runs: what you type (or pipe in) reaches it as it comes, its output appears as it
is written. With the in-process manager the command gets this terminal (or these pipes)
itself, so shells, vtysh and editors work and Ctrl-C goes to the command. Through
--server the API's ExecStream carries the streams: the command gets pipes, not a
terminal (lines are sent as you finish them; Ctrl-C ends kne and the command).

Usage:
  kne exec NAME NODE [--timeout D] -- CMD [ARG...]
  kne exec NAME NODE -it -- CMD [ARG...]

Flags:
  -i, --interactive     stream standard input, output and error to and from the command
  -t, --tty             the command uses this terminal (same as -i here: the command gets
                        the terminal itself, so shells, vtysh and editors work)
      --timeout D       kill the command after this long (default 60s; none with -i)
${connectionHelp}
  -h, --help            Show this help (put --help after '--' to ask CMD instead)

Exit status: the command's (128+N when killed by signal N); 1 when it could not be run
(no such node), 2 wrong command line.

Examples:
  kne exec frr-clos spine1 -- vtysh -c 'show bgp summary'
  kne exec frr-clos spine1 -it -- vtysh
  kne exec host-3node h1 -it -- bash
  kne exec frr-clos host1 -- ping -c 3 198.18.104.10
  printf 'show version\\n' | kne exec frr-clos spine1 -i -- vtysh
`,
  async run(args: string[], io: CliIo) {
    const dash = args.indexOf("--");
    const own = dash >= 0 ? args.slice(0, dash) : args;
    const command = dash >= 0 ? args.slice(dash + 1) : [];
    const { values, positionals } = parseArgs({
      args: own,
      options: { ...connectionOptions, timeout: { type: "string" }, interactive: { type: "boolean", short: "i" }, tty: { type: "boolean", short: "t" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 2) throw new UsageError("exec needs NAME and NODE, then -- and the command");
    if (command.length === 0) throw new UsageError("no command given: put it after --");
    const interactive = values.interactive === true || values.tty === true;
    const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout, "--timeout") : interactive ? undefined : 60_000;
    const name = await topologyName(positionals[0]!, io);
    if (interactive) {
      const server = values.server ?? (process.env[SERVER_ENV] || undefined);
      if (server === undefined) return runInteractive(name, positionals[1]!, command, values["state-dir"], timeoutMs, io);
      return withManager(values, (m) => streamThroughServer(m, { topology: name, node: positionals[1]!, command, ...(timeoutMs ? { timeoutMs } : {}) }, io));
    }
    const stdin = !process.stdin.isTTY && io.stdout === process.stdout ? await readStdin() : undefined;
    return withManager(values, async (m) => {
      try {
        const r = await m.node.execCommand({ topology: name, node: positionals[1]!, command, timeoutMs: timeoutMs!, ...(stdin ? { stdin } : {}) }, { timeoutMs: timeoutMs! + 10_000 });
        io.stdout.write(Buffer.from(r.stdout).toString("utf8"));
        io.stderr.write(Buffer.from(r.stderr).toString("utf8"));
        return r.exitCode as ExitCode;
      } catch (error) {
        return reportError("kne exec", error, io);
      }
    });
  },
};

/**
 * Runs the command in the node with this process's own standard input, output and error
 * (a terminal or pipes): nothing is buffered or relayed, so it behaves as if started here.
 */
async function runInteractive(topology: string, node: string, command: string[], stateDir: string | undefined, timeoutMs: number | undefined, io: CliIo): Promise<ExitCode> {
  // Loaded on demand, as the embedded manager is: it pulls in the data plane and vendors.
  const { LocalBackend } = await import("@kne/manager");
  const backend = new LocalBackend(stateDir ? { stateDir } : {});
  let line: { file: string; args: string[]; cwd: string; env: Record<string, string> };
  try {
    line = await backend.interactiveCommand(topology, node, command);
  } catch (error) {
    return reportError("kne exec", error, io);
  } finally {
    await backend.close();
  }
  // The terminal's Ctrl-C and Ctrl-\ reach the command (same process group); kne waits for it.
  const ignore = (): void => undefined;
  process.on("SIGINT", ignore);
  process.on("SIGQUIT", ignore);
  try {
    return await new Promise<ExitCode>((resolve) => {
      const child = spawn(line.file, line.args, { cwd: line.cwd, env: { ...process.env, ...line.env }, stdio: "inherit" });
      const timer = timeoutMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : undefined;
      child.on("error", (err) => {
        if (timer) clearTimeout(timer);
        io.stderr.write(`kne exec: cannot run ${line.file}: ${err.message}\n`);
        resolve(ExitCode.failure);
      });
      child.on("close", (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve((code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)) as ExitCode);
      });
    });
  } finally {
    process.off("SIGINT", ignore);
    process.off("SIGQUIT", ignore);
  }
}

/**
 * `-i` through a server: ExecStream, fed from this process's standard input as it is read
 * (a terminal gives lines), with the command's output written as it arrives.
 */
async function streamThroughServer(m: ManagerConnection, first: MessageInitShape<typeof managerv1.ExecStreamRequestSchema>, io: CliIo): Promise<ExitCode> {
  async function* requests(): AsyncGenerator<MessageInitShape<typeof managerv1.ExecStreamRequestSchema>> {
    yield first;
    try {
      for await (const chunk of process.stdin) yield { stdin: new Uint8Array(chunk as Buffer) };
    } catch {
      // stdin went away: the command sees its input end.
    }
    yield { closeStdin: true };
  }
  const out = new StringDecoder("utf8");
  const err = new StringDecoder("utf8");
  let exitCode: number | undefined;
  try {
    for await (const r of m.node.execStream(requests())) {
      if (r.stdout.length > 0) io.stdout.write(out.write(Buffer.from(r.stdout)));
      if (r.stderr.length > 0) io.stderr.write(err.write(Buffer.from(r.stderr)));
      if (r.exited) exitCode = r.exitCode;
    }
    io.stdout.write(out.end());
    io.stderr.write(err.end());
  } catch (error) {
    return reportError("kne exec", error, io);
  } finally {
    // The command may end before its input does (a terminal never ends): stop reading it.
    process.stdin.destroy();
  }
  if (exitCode === undefined) {
    io.stderr.write("kne exec: the server ended the stream without the command's exit status\n");
    return ExitCode.failure;
  }
  return exitCode as ExitCode;
}

async function readStdin(): Promise<Uint8Array | undefined> {
  if (process.stdin.readableEnded) return undefined;
  const chunks: Buffer[] = [];
  const timer = setTimeout(() => process.stdin.destroy(), 50);
  try {
    for await (const chunk of process.stdin) {
      clearTimeout(timer);
      chunks.push(chunk as Buffer);
    }
  } catch {
    // stdin closed or not readable
  }
  clearTimeout(timer);
  return chunks.length > 0 ? new Uint8Array(Buffer.concat(chunks)) : undefined;
}
