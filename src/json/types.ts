// The JSON value types shared by the whole toolkit, and the few own-property helpers that keep every
// module safe from prototype pollution.
//
// Convention for the whole folder: JSON values are treated as immutable. No function here mutates its
// arguments, and results may share unchanged subtrees with their inputs (structural sharing keeps the
// hot paths cheap). Callers that want to mutate a result must copy it first.

/** Any value JSON can carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object: string keys, JSON values. Only own properties count as members. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * True for a JSON object (not null, not an array).
 *
 * @example isJsonObject({ a: 1 }) // true
 * @example isJsonObject([1])      // false
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The member `key` of `obj`, or undefined when `obj` has no such OWN member. Never reads through the
 * prototype chain, so `getOwn({}, 'constructor')` is undefined rather than `Object`.
 *
 * @example getOwn({ a: 1 }, 'a')      // 1
 * @example getOwn({}, 'toString')     // undefined
 */
export function getOwn(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Sets the own member `key` of `obj` (an object this toolkit created). `__proto__` is defined as a plain
 * data property, because assigning it would replace the object's prototype instead. Every other key is
 * safe to assign: Object.prototype has no other setter.
 *
 * @example const o = {}; setOwn(o, '__proto__', 1); Object.keys(o) // ['__proto__']
 */
export function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * A shallow copy of `obj`. Object spread defines properties (it never calls setters), so an own
 * `__proto__` member is copied as a member, not turned into a prototype.
 *
 * @example copyObject({ a: 1 }) // { a: 1 }, a new object
 */
export function copyObject(obj: JsonObject): JsonObject {
  return { ...obj };
}
