/**
 * @kne/vendors — see package.json for its role.
 */
export {};
