/**
 * @kne/topology — load (textproto | YAML | JSON) → validate → resolve → plan. Pure: no
 * I/O but reading topology and config files.
 */
export * from "./errors";
