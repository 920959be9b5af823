// Declarations for the untyped packages the verifier uses beyond types/digitalbazaar.d.ts.
declare module '@digitalbazaar/ecdsa-multikey' {
  export function from (key: Record<string, unknown>): Promise<unknown>
  export function toJwk (options: { keyPair: unknown, secretKey?: boolean }): Promise<Record<string, unknown>>
}
declare module '@digitalbazaar/ed25519-multikey' {
  export function toJwk (options: { keyPair: unknown, secretKey?: boolean }): Promise<Record<string, unknown>>
}
