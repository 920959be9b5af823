import { resignCredential, type ReissueDeps } from './reissue-credential.js'
import { currentVersionsSignedBy } from '../store.js'

/**
 * Re-signs every current credential a key signed, a batch at a time, each in
 * its own transaction. Resumable: the query finds only what is still signed
 * by that key, so after a crash the next run carries on. Returns the count.
 */
export async function resignAll (deps: Omit<ReissueDeps, 'now'> & { clock: () => Date }, keyId: string, progress: (done: number) => void, batch = 50): Promise<number> {
  let done = 0
  const seen = new Set<string>()
  for (;;) {
    const page = await currentVersionsSignedBy(deps.sql, keyId, batch)
    if (page.length === 0) return done
    for (const { credentialId } of page) {
      // Re-signed, yet still signed by that key: it is still the signer.
      if (seen.has(credentialId)) throw new Error(`The key "${keyId}" is still the issuer's signer: run "signing-keys rotate" first.`)
      seen.add(credentialId)
      await resignCredential({ ...deps, now: deps.clock() }, credentialId)
      done++
    }
    progress(done)
  }
}
