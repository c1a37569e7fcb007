/**
 * Which FRR daemons a config needs. FRR's integrated config mixes every daemon's commands;
 * a command reaches a daemon only if that daemon runs, so we start the daemons whose
 * commands appear. zebra and staticd always run (interfaces, static routes); mgmtd runs
 * first where the installed FRR has it (FRR 9+ routes config through it).
 */

/** Every daemon the local runtime knows how to start, in start order after zebra. */
export const knownFrrDaemons = [
  "mgmtd",
  "zebra",
  "staticd",
  "bgpd",
  "ospfd",
  "ospf6d",
  "isisd",
  "ripd",
  "ripngd",
  "eigrpd",
  "babeld",
  "fabricd",
  "bfdd",
  "ldpd",
  "pimd",
  "pim6d",
  "pbrd",
  "vrrpd",
  "pathd",
  "nhrpd",
  "sharpd",
] as const;

export type FrrDaemon = (typeof knownFrrDaemons)[number];

/** Daemons that always run. */
export const baseFrrDaemons: readonly FrrDaemon[] = ["zebra", "staticd"];

/** Commands (a config line without its indentation) that only the given daemon serves. */
const commandsByDaemon: ReadonlyArray<readonly [FrrDaemon, readonly RegExp[]]> = [
  ["bgpd", [/^router bgp\b/, /^bgp (as-path|community-list|extcommunity-list|large-community-list)\b/, /^ip as-path\b/]],
  ["ospfd", [/^router ospf(\s|$)/, /^ip ospf\b/]],
  ["ospf6d", [/^router ospf6\b/, /^ipv6 ospf6\b/]],
  ["isisd", [/^router isis\b/, /^ip(v6)? router isis\b/]],
  ["ripd", [/^router rip(\s|$)/, /^ip rip\b/]],
  ["ripngd", [/^router ripng\b/, /^ipv6 ripng\b/]],
  ["eigrpd", [/^router eigrp\b/]],
  ["babeld", [/^router babel\b/, /^babel\b/]],
  ["fabricd", [/^router openfabric\b/, /^ip(v6)? router openfabric\b/]],
  ["bfdd", [/^bfd$/, /^neighbor \S+ bfd\b/, /^ip ospf bfd\b/, /^ipv6 ospf6 bfd\b/, /^isis bfd\b/]],
  ["ldpd", [/^mpls ldp\b/]],
  ["pimd", [/^router pim(\s|$)/, /^ip (pim|igmp)\b/]],
  ["pim6d", [/^router pim6\b/, /^ipv6 (pim|mld)\b/]],
  ["pbrd", [/^pbr-map\b/, /^pbr-policy\b/]],
  ["vrrpd", [/^vrrp \d+/]],
  ["pathd", [/^traffic-eng$/]],
  ["nhrpd", [/^ip nhrp\b/, /^ipv6 nhrp\b/, /^nhrp\b/]],
];

/** The daemons (beyond zebra and staticd) whose commands appear in an FRR config. */
export function daemonsForConfig(config: string): FrrDaemon[] {
  const found = new Set<FrrDaemon>();
  for (const raw of config.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("!") || line.startsWith("#")) continue;
    for (const [daemon, patterns] of commandsByDaemon) {
      if (!found.has(daemon) && patterns.some((p) => p.test(line))) found.add(daemon);
    }
  }
  return knownFrrDaemons.filter((d) => found.has(d));
}

/** Parses an explicit daemon list (`bgpd ospfd`, `bgpd,ospfd`); throws naming unknown ones. */
export function parseDaemonList(text: string): FrrDaemon[] {
  const names = text.split(/[\s,]+/).filter((n) => n !== "");
  const unknown = names.filter((n) => !(knownFrrDaemons as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new Error(`unknown FRR daemon ${unknown.join(", ")}; known daemons: ${knownFrrDaemons.join(", ")}`);
  }
  return knownFrrDaemons.filter((d) => names.includes(d));
}

/**
 * The daemons to run, in start order: mgmtd (when the installed FRR has it), zebra,
 * staticd, then what the config and the explicit list ask for.
 */
export function frrDaemonSet(config: string, extra: readonly FrrDaemon[], withMgmtd: boolean): FrrDaemon[] {
  const wanted = new Set<FrrDaemon>([...baseFrrDaemons, ...daemonsForConfig(config), ...extra]);
  if (withMgmtd) wanted.add("mgmtd");
  else wanted.delete("mgmtd");
  return knownFrrDaemons.filter((d) => wanted.has(d));
}
