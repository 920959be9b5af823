import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { serviceSecret } from '../../infrastructure/db/service-secrets.js'
import type { Db } from '../../infrastructure/db/types.js'

/**
 * What another Host gave this service (client secret, access and refresh
 * tokens) and the PKCE verifier of a pending authorization, sealed with
 * AES-256-GCM under the service secret 'ob-consumer-tokens': a random 12-byte
 * IV per value, stored as iv || tag || ciphertext. A database dump without the
 * secret's row reveals no token; the tag makes an altered value fail to open.
 */
export interface Sealer {
  seal: (clear: string) => Buffer
  open: (sealed: Buffer) => string
}

const IV_BYTES = 12
const TAG_BYTES = 16

export async function tokenSealer (sql: Db): Promise<Sealer> {
  const key = await serviceSecret(sql, 'ob-consumer-tokens')
  return {
    seal (clear) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(clear, 'utf8'), cipher.final()])
      return Buffer.concat([iv, cipher.getAuthTag(), body])
    },
    open (sealed) {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES))
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
    }
  }
}

/** The state as kept: its hash, enough to find the pending connection, useless to forge a callback. */
export const stateHash = (state: string): Buffer => createHash('sha256').update(state, 'utf8').digest()
