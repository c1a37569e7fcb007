/**
 * @kne/dataplane — see package.json for its role.
 */
export {};
