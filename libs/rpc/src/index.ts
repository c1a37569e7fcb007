/**
 * @kne/rpc — see package.json for its role.
 */
export {};
