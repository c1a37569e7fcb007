/**
 * DriveNets CDNOS: links name Linux interfaces as written (upstream's example uses `eno0`).
 */
import { namesAsWritten } from "../interface-naming";

export const drivenetsInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, eno0, ...)");
