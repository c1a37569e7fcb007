/**
 * Ciena SAOS and WaveRouter port names: `<slot>/<x>/<port>` and a bare `<port>` are the
 * Linux interface `eth<port>` (upstream renames them when it makes the node; its README
 * writes ports as `1/5/1`); any other name is a Linux name as written.
 */
import type { InterfaceNaming } from "../vendor-definition";

const slotPort = /^\d+\/\d+\/(\d+)$/;
const barePort = /^(\d+)$/;

export const cienaInterfaceNaming: InterfaceNaming = {
  rule: "ports <slot>/<x>/<port> (1/5/1) and <port> (1) are eth<port>; other names are Linux names",
  map: ({ names }) => {
    const linux = new Map<string, string>();
    for (const name of names) {
      const port = slotPort.exec(name) ?? barePort.exec(name);
      // Digits as the number they are: "01" and "1" are both eth1 (upstream keeps the text).
      linux.set(name, port ? `eth${Number(port[1])}` : name);
    }
    return { linux, problems: new Map() };
  },
};
