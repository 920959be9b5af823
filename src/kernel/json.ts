/** A JSON object as parsed from untrusted input: any keys, any values. */
export type JsonObject = Record<string, unknown>

/** Is this a plain JSON object (not null, not an array)? The one guard every reader of untrusted JSON uses. */
export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
