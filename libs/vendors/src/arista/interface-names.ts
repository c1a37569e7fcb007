/**
 * Arista cEOS: links name Linux interfaces (`eth1`); the EOS name is the interface entry's
 * `name` — `Ethernet<N>[/<M>[/<K>]]` or `Management<N>[/<M>]` — or, left empty,
 * `Ethernet<N>` for `eth<N>`. Upstream refuses any other `name` on an `eth*` interface
 * ("Unrecognized interface name") before it makes the CEosLabDevice.
 */
import { namesAsWritten } from "../interface-naming";

const ethernet = /^Ethernet\d+(?:\/\d+)?(?:\/\d+)?$/;
const management = /^Management\d+(?:\/\d+)?$/;

export const aristaInterfaceNaming = namesAsWritten(
  "Linux names (eth1); interfaces[ethN].name is Ethernet<N>[/<M>[/<K>]] or Management<N>[/<M>], default Ethernet<N>",
  (name, { node }) => {
    const eos = node.interfaces[name]?.name ?? "";
    if (!name.startsWith("eth") || eos === "" || ethernet.test(eos) || management.test(eos)) return undefined;
    return `has name "${eos}", which is not an EOS interface (Ethernet<N>[/<M>[/<K>]] or Management<N>[/<M>])`;
  },
);
