/**
 * @kne/manager — see package.json for its role.
 */
export {};
