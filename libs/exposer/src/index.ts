/**
 * @kne/exposer — see package.json for its role.
 */
export {};
