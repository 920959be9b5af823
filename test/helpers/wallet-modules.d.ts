// Declarations for the untyped packages the test wallet (vc-api-wallet.ts) signs with:
// only what it calls. (Installed with @digitalbazaar/vc and @digitalbazaar/ed25519-signature-2020.)
declare module '@digitalbazaar/credentials-context' {
  export const contexts: Map<string, unknown>
}
declare module 'ed25519-signature-2020-context' {
  const context: { contexts: Map<string, unknown>, CONTEXT_URL: string }
  export default context
}
declare module '@digitalbazaar/ed25519-verification-key-2020' {
  export class Ed25519VerificationKey2020 {
    static generate (options?: { controller?: string, seed?: Uint8Array }): Promise<Ed25519VerificationKey2020>
    static from (options: Record<string, unknown>): Promise<Ed25519VerificationKey2020>
    id?: string
    fingerprint (): string
    export (options: { publicKey?: boolean, privateKey?: boolean, includeContext?: boolean }): Record<string, unknown>
  }
}
