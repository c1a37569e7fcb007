/**
 * Keysight ixia-c: links name the test ports' Linux interfaces (`eth1`); upstream sets each
 * interface's `name` to that name for the IxiaTG resource.
 */
import { namesAsWritten } from "../interface-naming";

export const keysightInterfaceNaming = namesAsWritten("Linux interface names as written (eth1, ...); each is also the port's name");
