/**
 * JSON schemas for kubeconform, made offline: the Kubernetes API's object schemas from the
 * OpenAPI (v2) document that ships in the k8s.io/kubernetes module
 * (api/openapi-spec/swagger.json), and our CustomResourceDefinitions' openAPIV3Schema.
 *
 * Every schema is standalone (the definitions it refers to travel inside it) and strict:
 * an object that lists its properties accepts no others, as the API server's own field
 * validation does. A few types need their wire forms spelled out for JSON Schema:
 * IntOrString and `x-kubernetes-int-or-string` (an integer or a string) and Quantity
 * (a string or a number: `cpu: 1` is valid YAML for it).
 *
 * File names follow kubeconform's template data, lower case:
 * `{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json`, where Group is the
 * part of apiVersion before the slash ("v1" for the core group) — see `schemaFileName`.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** kubeconform's -schema-location template for a directory of these files. */
export function schemaLocationTemplate(dir: string): string {
  return `${dir}/{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json`;
}

/** The file kubeconform looks for, for an object of `apiVersion` and `kind`. */
export function schemaFileName(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? apiVersion : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return `${kind.toLowerCase()}_${group}_${version}.json`;
}

const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An object schema that names its properties and says nothing of others gets additionalProperties: false. */
function strictObject(schema: JsonObject): void {
  if (schema["x-kubernetes-preserve-unknown-fields"] === true) return;
  if (isObject(schema["properties"]) && schema["additionalProperties"] === undefined && schema["patternProperties"] === undefined) {
    schema["additionalProperties"] = false;
  }
}

/** Rewrites one schema node (and everything under it) in place. */
function rewrite(node: Json, refPrefix: string | undefined): Json {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, refPrefix));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    // Free text and examples are kept as they are: their keys are not schema keywords.
    if (k === "description" || k === "example" || k === "enum" || k === "default") out[k] = v;
    else if (k === "properties" && isObject(v)) out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, rewrite(s, refPrefix)]));
    else out[k] = rewrite(v, refPrefix);
  }
  if (typeof out["$ref"] === "string" && refPrefix !== undefined) {
    out["$ref"] = out["$ref"].replace("#/definitions/", refPrefix);
  }
  if (out["x-kubernetes-int-or-string"] === true || out["format"] === "int-or-string") {
    delete out["type"];
    delete out["format"];
    out["oneOf"] = [{ type: "string" }, { type: "integer" }];
  }
  if (out["nullable"] === true && typeof out["type"] === "string") out["type"] = [out["type"], "null"];
  strictObject(out);
  return out;
}

/** The definitions `name` needs, itself included (follows $ref transitively). */
function closure(definitions: JsonObject, name: string): string[] {
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    const def = definitions[n];
    if (def === undefined) throw new Error(`swagger.json: $ref to a missing definition ${n}`);
    seen.add(n);
    const walk = (v: Json): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isObject(v)) {
        for (const [k, x] of Object.entries(v)) {
          if (k === "$ref" && typeof x === "string" && x.startsWith("#/definitions/")) visit(x.slice("#/definitions/".length));
          else if (k !== "description") walk(x);
        }
      }
    };
    walk(def);
  };
  visit(name);
  return [...seen].sort();
}

/**
 * Schemas for every kind in a Kubernetes OpenAPI v2 document: file name → schema. Kinds of
 * several versions each get their own file; list kinds are included (kubeconform skips
 * lists it cannot find, and `helm template` makes none).
 */
export function kubernetesSchemas(swagger: JsonObject): Map<string, JsonObject> {
  const definitions = swagger["definitions"];
  if (!isObject(definitions)) throw new Error("swagger.json: no definitions");
  // The wire forms of the two special scalar types.
  const patched: JsonObject = { ...definitions };
  patched[QUANTITY] = { oneOf: [{ type: "string" }, { type: "number" }] };
  patched[INT_OR_STRING] = { oneOf: [{ type: "string" }, { type: "integer" }] };
  const out = new Map<string, JsonObject>();
  for (const [name, def] of Object.entries(patched)) {
    if (!isObject(def)) continue;
    const gvks = def["x-kubernetes-group-version-kind"];
    if (!Array.isArray(gvks)) continue;
    const defs: JsonObject = {};
    for (const n of closure(patched, name)) defs[n] = rewrite(patched[n]!, "#/definitions/");
    for (const gvk of gvks) {
      if (!isObject(gvk)) continue;
      const group = String(gvk["group"] ?? "");
      const version = String(gvk["version"]);
      const kind = String(gvk["kind"]);
      const apiVersion = group === "" ? version : `${group}/${version}`;
      const root = rewrite(patched[name]!, "#/definitions/") as JsonObject;
      // Pin apiVersion and kind: a Deployment's schema must not pass a StatefulSet.
      const props = isObject(root["properties"]) ? { ...root["properties"] } : {};
      props["apiVersion"] = { type: "string", enum: [apiVersion] };
      props["kind"] = { type: "string", enum: [kind] };
      out.set(schemaFileName(apiVersion, kind), { $schema: "http://json-schema.org/draft-07/schema#", ...root, properties: props, definitions: defs });
    }
  }
  return out;
}

interface CrdVersion {
  name: string;
  schema?: { openAPIV3Schema?: JsonObject };
}

/** Schemas for every version of a CustomResourceDefinition (a parsed manifest). */
export function crdSchemas(crd: JsonObject): Map<string, JsonObject> {
  const spec = crd["spec"];
  const meta = crd["metadata"];
  const name = isObject(meta) ? String(meta["name"]) : "(unnamed)";
  if (crd["kind"] !== "CustomResourceDefinition" || !isObject(spec)) throw new Error(`${name}: not a CustomResourceDefinition`);
  const group = String(spec["group"]);
  const names = spec["names"];
  if (!isObject(names) || typeof names["kind"] !== "string") throw new Error(`CRD ${name}: spec.names.kind missing`);
  const kind = names["kind"];
  const out = new Map<string, JsonObject>();
  for (const v of (spec["versions"] ?? []) as unknown as CrdVersion[]) {
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) throw new Error(`CRD ${name}: version ${v.name} has no openAPIV3Schema`);
    const apiVersion = `${group}/${v.name}`;
    const root = rewrite(schema, undefined) as JsonObject;
    const props = isObject(root["properties"]) ? { ...root["properties"] } : {};
    props["apiVersion"] = { type: "string", enum: [apiVersion] };
    props["kind"] = { type: "string", enum: [kind] };
    // ObjectMeta is the API server's; a CRD's schema may only say `type: object`.
    if (props["metadata"] === undefined) props["metadata"] = { type: "object" };
    out.set(schemaFileName(apiVersion, kind), { $schema: "http://json-schema.org/draft-07/schema#", ...root, type: "object", properties: props, additionalProperties: false });
  }
  return out;
}
