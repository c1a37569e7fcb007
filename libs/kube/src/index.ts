/**
 * @kne/kube — see package.json for its role.
 */
export {};
