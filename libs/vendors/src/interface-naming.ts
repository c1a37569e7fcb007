/**
 * Building blocks of the vendors' interface naming (each vendor's rule lives in its own
 * folder, `<vendor>/interface-names.ts`): names used as written, and upstream's renaming of
 * vendor port names to `eth<N>`. The registry's `mapInterfaceNames` runs a vendor's rule and
 * refuses two names that land on one Linux interface.
 */
import type { InterfaceNames, InterfaceNaming, InterfaceNamingInput } from "./vendor-definition";

/** Why a name is refused, or undefined; gets the whole input for rules that look at `interfaces`. */
export type InterfaceNameCheck = (name: string, input: InterfaceNamingInput) => string | undefined;

/** Every name is the Linux interface itself; `check` may refuse some (the vendor's own limits). */
export function namesAsWritten(rule: string, check?: InterfaceNameCheck): InterfaceNaming {
  return {
    rule,
    map: (input) => {
      const linux = new Map<string, string>();
      const problems = new Map<string, string>();
      for (const name of input.names) {
        const problem = check?.(name, input);
        if (problem) problems.set(name, problem);
        else linux.set(name, name);
      }
      return { linux, problems };
    },
  };
}

/**
 * Orders names the way people number ports: digit runs compare as numbers
 * (`Ethernet2` before `Ethernet10`, `1/1/2` before `1/1/10`).
 */
export function compareNatural(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Upstream's SONiC and ALPINE renaming: every name starting with `Ethernet` becomes the next
 * of `eth1`, `eth2`, ... Upstream hands them out in Go's map order, which changes from run to
 * run; here they go in port order (`compareNatural`), so a topology always gets the same
 * wiring. Other names are Linux names as written.
 */
export function ethernetPortsInOrder(rule: string): InterfaceNaming {
  return {
    rule,
    map: (input): InterfaceNames => {
      const linux = new Map<string, string>();
      const ports = [...new Set(input.names.filter((n) => n.startsWith("Ethernet")))].sort(compareNatural);
      ports.forEach((name, i) => linux.set(name, `eth${i + 1}`));
      for (const name of input.names) if (!linux.has(name)) linux.set(name, name);
      return { linux, problems: new Map() };
    },
  };
}
