/**
 * HOST on the local backend: the namespace is the node. With `config.command` (and
 * `config.args`, `config.env`) that command runs inside it, from the host file system,
 * supervised; without one nothing runs — the namespace lives on its own, and
 * `kne exec NODE -- sh` gives a shell. (Upstream's pod runs `sleep` only to keep a
 * container alive; a namespace needs no process, which keeps rings of 500 hosts cheap.)
 * A boot config, when given, is written to `nodeDir/host/<config_file>` and its path
 * passed to the command as `KNE_BOOT_CONFIG`.
 */
import { basename, join } from "node:path";
import { topo } from "@kne/proto";
import { LocalPreconditionError } from "../errors";
import type { LocalNodeContext, LocalRuntime, ProcessSpec } from "../local-runtime";
import { checkNodeDir, ensureDirectory, findExecutable, writeFileAtomic } from "../node-files";
import { hostInterfaceNaming } from "./interface-names";
import type { VendorDefinition } from "../vendor-definition";

/** Environment variable that carries the boot config's path to a HOST command. */
export const BOOT_CONFIG_ENV = "KNE_BOOT_CONFIG";

function bootConfigPath(ctx: LocalNodeContext): string | undefined {
  if (!ctx.bootConfig || ctx.bootConfig.length === 0) return undefined;
  const name = basename(ctx.node.config?.configFile || "config");
  return join(ctx.nodeDir, "host", name === "" || name === "." || name === ".." ? "config" : name);
}

const hostRuntime: LocalRuntime = {
  sysctls: () => ({}),

  async prepare(ctx) {
    await checkNodeDir(ctx.nodeDir);
    const command = ctx.node.config?.command ?? [];
    if (command.length > 0) {
      const executable = command[0]!;
      if (!(await findExecutable(executable))) {
        throw new LocalPreconditionError(
          `node ${ctx.node.name}: command ${executable} is not on this host (the local backend runs HOST commands from the host file system, not from an image)`,
          `nodes[${ctx.node.name}].config.command`,
        );
      }
    }
    const path = bootConfigPath(ctx);
    if (path) {
      await ensureDirectory(join(ctx.nodeDir, "host"), { mode: 0o755 });
      await writeFileAtomic(path, ctx.bootConfig!);
    }
  },

  processes(ctx): ProcessSpec[] {
    const config = ctx.node.config;
    const command = config?.command ?? [];
    if (command.length === 0) return [];
    const path = bootConfigPath(ctx);
    const env = { ...config?.env, ...(path ? { [BOOT_CONFIG_ENV]: path } : {}) };
    return [
      {
        name: basename(command[0]!) || "command",
        argv: [...command, ...(config?.args ?? [])],
        ...(Object.keys(env).length > 0 ? { env } : {}),
      },
    ];
  },

  // The namespace exists once the backend calls us, and a command is the supervisor's to watch.
  ready: async () => ({ ready: true }),
};

export const hostVendor: VendorDefinition = {
  vendor: topo.Vendor.HOST,
  name: "HOST",
  description: "A Linux host: a network namespace, optionally running a command",
  aliases: ["linux"],
  models: [],
  defaults: {
    services: {},
    container: {
      image: "alpine:latest",
      command: ["/bin/sh", "-c", "sleep 2000000000000"],
      configPath: "/etc",
      configFile: "config",
      entryCommand: "kubectl exec -it %s -- sh",
    },
  },
  interfaceNaming: hostInterfaceNaming,
  local: hostRuntime,
};
