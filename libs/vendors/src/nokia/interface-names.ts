/**
 * Nokia SR Linux: links name the container's Linux interfaces, `e<slot>-<port>` (`e1-1`),
 * which SR Linux itself maps to `ethernet-1/1`; upstream passes names on as written.
 */
import { namesAsWritten } from "../interface-naming";

export const nokiaInterfaceNaming = namesAsWritten("Linux names as SR Linux reads them: e<slot>-<port> (e1-1 is ethernet-1/1)");
