/**
 * Cisco XRd and 8000e: links name Linux interfaces `eth<N>` (upstream also takes the
 * prefixes `e`, `et`, ... `ethernet`); the XR name is the interface entry's `name`, or
 * derived from N: XRd `GigabitEthernet0/0/0/<N-1>`; the 8000e models number their
 * `FourHundredGigE`/`HundredGigE` ports from 0 and have a fixed count, beyond which
 * upstream refuses the interface.
 */
import { namesAsWritten } from "../interface-naming";

const linuxName = /^(?:e|et|eth|ethe|ether|ethern|etherne|ethernet)(\d+)$/;

/** Port ranges of the 8000e models: [last port index, XR interface type]. */
const e8000Ports: Readonly<Record<string, ReadonlyArray<readonly [number, string]>>> = {
  "8201": [[23, "FourHundredGigE"], [35, "HundredGigE"]],
  "8202": [[47, "HundredGigE"], [59, "FourHundredGigE"], [71, "HundredGigE"]],
  "8201-32FH": [[31, "FourHundredGigE"]],
  "8101-32H": [[31, "HundredGigE"]],
  "8102-64H": [[63, "HundredGigE"]],
};

/** The XR name upstream gives `eth<N>` on a model when the topology names none; a string starting with "!" is a refusal. */
export function ciscoInterfaceId(model: string | undefined, n: number): string {
  const index = n - 1;
  const ports = model ? e8000Ports[model] : undefined;
  if (!ports) return `GigabitEthernet0/0/0/${index}`;
  const range = ports.find(([last]) => index <= last);
  if (!range) return `!${model} has eth1..eth${ports[ports.length - 1]![0] + 1}`;
  return `${range[1]}0/0/0/${index}`;
}

export const ciscoInterfaceNaming = namesAsWritten(
  "Linux names eth<N>; the XR name is interfaces[ethN].name, else GigabitEthernet0/0/0/<N-1> (XRd) or the 8000e model's FourHundredGigE/HundredGigE0/0/0/<N-1>",
  (name, { node, model }) => {
    const match = linuxName.exec(name);
    if (!match) return "is not an eth<N> interface (upstream derives the XR interface from N)";
    if ((node.interfaces[name]?.name ?? "") !== "") return undefined;
    const n = Number(match[1]);
    if (n < 1) return "has no XR interface: ports are eth1 and up";
    const id = ciscoInterfaceId(model, n);
    return id.startsWith("!") ? `has no XR interface: ${id.slice(1)} (or give interfaces[${name}].name)` : undefined;
  },
);
