import { ID_CHARS } from './ids.js'

/**
 * Every public URL the service mints, in one place. Ids in signed documents are
 * built from these, so the shapes here are a public contract: change with care.
 */
export function publicUrls (base: string) {
  return {
    base,
    issuer: (id: string) => `${base}/issuers/${id}`,
    achievement: (id: string) => `${base}/achievements/${id}`,
    credential: (id: string) => `${base}/credentials/${id}`,
    /** One signed version of a credential, byte for byte; the credential URL itself serves the current one. */
    credentialVersion: (id: string, version: number) => `${base}/credentials/${id}/versions/${version}`,
    statusList: (id: string) => `${base}/status-lists/${id}`,
    key: (id: string) => `${base}/keys/${id}`,
    /** The Data Integrity verification method of an Ed25519 key: `<issuer id>#<publicKeyMultibase>`. */
    verificationMethod: (issuerId: string, publicKeyMultibase: string) => `${base}/issuers/${issuerId}#${publicKeyMultibase}`
  }
}

export type PublicUrls = ReturnType<typeof publicUrls>

const PUBLIC_PATH = new RegExp(`^(issuers|achievements|credentials|status-lists|keys)/([${ID_CHARS}]{1,64})$`)

/** Reverses publicUrls: which of our own resources, if any, a URL names. */
export function parsePublicUrl (base: string, url: string): { kind: 'issuer' | 'achievement' | 'credential' | 'status-list' | 'key', id: string, fragment?: string } | undefined {
  if (!url.startsWith(base + '/')) return undefined
  const rest = url.slice(base.length + 1)
  const hashAt = rest.indexOf('#')
  const pathPart = hashAt === -1 ? rest : rest.slice(0, hashAt)
  const fragment = hashAt === -1 ? undefined : rest.slice(hashAt + 1)
  const match = PUBLIC_PATH.exec(pathPart)
  if (match === null) return undefined
  const kinds = { issuers: 'issuer', achievements: 'achievement', credentials: 'credential', 'status-lists': 'status-list', keys: 'key' } as const
  return { kind: kinds[match[1] as keyof typeof kinds], id: match[2]!, ...(fragment !== undefined ? { fragment } : {}) }
}
