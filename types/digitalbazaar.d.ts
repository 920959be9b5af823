// Minimal declarations for the untyped Digital Bazaar and jsonld packages:
// only what Tessera calls.
declare module '@digitalbazaar/vc' {
  export function issue (options: { credential: object, suite: unknown, documentLoader: unknown, now?: string | Date }): Promise<any>
  export function verifyCredential (options: Record<string, unknown>): Promise<any>
  export function signPresentation (options: Record<string, unknown>): Promise<any>
}
declare module '@digitalbazaar/data-integrity' {
  export class DataIntegrityProof {
    constructor (options: { signer?: unknown, cryptosuite: unknown, date?: string | Date, legacyContext?: boolean })
  }
}
declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: Record<string, unknown>
}
declare module '@digitalbazaar/eddsa-2022-cryptosuite' {
  export const cryptosuite: unknown
}
declare module '@digitalbazaar/ecdsa-sd-2023-cryptosuite' {
  export function createVerifyCryptosuite (options?: Record<string, unknown>): unknown
}
declare module '@digitalbazaar/ed25519-signature-2020' {
  export class Ed25519Signature2020 {
    constructor (options?: Record<string, unknown>)
  }
}
declare module '@digitalbazaar/ed25519-multikey' {
  export interface Ed25519KeyPair {
    id?: string
    controller?: string
    publicKeyMultibase: string
    secretKeyMultibase?: string
    signer: () => { algorithm: string, id?: string, sign: (o: { data: Uint8Array }) => Promise<Uint8Array> }
    verifier: () => { algorithm: string, id?: string, verify: (o: { data: Uint8Array, signature: Uint8Array }) => Promise<boolean> }
    export: (o: { publicKey?: boolean, secretKey?: boolean, includeContext?: boolean }) => Promise<Record<string, string>>
  }
  export function generate (o?: { id?: string, controller?: string, seed?: Uint8Array }): Promise<Ed25519KeyPair>
  export function from (key: Record<string, unknown>): Promise<Ed25519KeyPair>
  export function toJwk (options: { keyPair: unknown, secretKey?: boolean }): Promise<Record<string, unknown>>
  export function fromJwk (options: { jwk: Record<string, unknown>, secretKey?: boolean }): Promise<{ publicKeyMultibase: string }>
}
declare module '@digitalbazaar/ecdsa-multikey' {
  export function from (key: Record<string, unknown>): Promise<unknown>
  export function toJwk (options: { keyPair: unknown, secretKey?: boolean }): Promise<Record<string, unknown>>
  export function fromJwk (options: { jwk: Record<string, unknown>, secretKey?: boolean }): Promise<{ publicKeyMultibase: string }>
}
declare module 'base58-universal' {
  /** undefined for a character outside the base58btc alphabet. */
  export function decode (input: string): Uint8Array | undefined
}
declare module 'jsonld' {
  const jsonld: {
    expand: (input: unknown, options: Record<string, unknown>) => Promise<unknown[]>
    compact: (input: unknown, context: unknown, options: Record<string, unknown>) => Promise<Record<string, unknown>>
    canonize: (input: unknown, options: Record<string, unknown>) => Promise<string>
  }
  export default jsonld
}
declare module 'jsonld-signatures' {
  const jsigs: any
  export default jsigs
}
