/**
 * @kne/agent — see package.json for its role.
 */
export {};
