/**
 * @kne/telemetry — see package.json for its role.
 */
export {};
