/**
 * @kne/bootstrap — see package.json for its role.
 */
export {};
