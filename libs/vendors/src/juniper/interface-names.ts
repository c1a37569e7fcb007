/**
 * Juniper cPTX/ncPTX: links name Linux interfaces (`eth4`); the Junos name (`et-0/0/0`,
 * channelized `et-0/0/0:0`, which switches cPTX into channelized mode) is the interface
 * entry's `name`, which upstream passes on unchecked.
 */
import { namesAsWritten } from "../interface-naming";

export const juniperInterfaceNaming = namesAsWritten("Linux names (eth1); the Junos name is interfaces[ethN].name (et-0/0/<N>, channelized et-0/0/<N>:<M>)");
