/**
 * ALPINE port names: like SONiC's, `Ethernet*` are renamed to `eth1`, `eth2`, ... in port
 * order (upstream: map order); other names are Linux names as written.
 */
import { ethernetPortsInOrder } from "../interface-naming";

export const alpineInterfaceNaming = ethernetPortsInOrder(
  "ports Ethernet* (Ethernet0, Ethernet1/1/1) are eth1, eth2, ... in port order; other names are Linux names",
);
