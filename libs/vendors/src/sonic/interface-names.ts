/**
 * SONiC port names: `Ethernet*` (`Ethernet0`, `Ethernet1/1/1`) are renamed to `eth1`,
 * `eth2`, ... in port order, as upstream renames them (in its map order); other names are
 * Linux names as written.
 */
import { ethernetPortsInOrder } from "../interface-naming";

export const sonicInterfaceNaming = ethernetPortsInOrder(
  "ports Ethernet* (Ethernet0, Ethernet1/1/1) are eth1, eth2, ... in port order; other names are Linux names",
);
