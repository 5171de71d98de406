// Test helper: freezes a value recursively, so any attempt to mutate an input throws in strict mode.

/** Recursively freezes `value` and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** JSON.parse then deepFreeze: parsed text keeps `__proto__` as an own member, like a request body. */
export function frozenJson<T = unknown>(text: string): T {
  return deepFreeze(JSON.parse(text) as T);
}
