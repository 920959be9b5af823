import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const CONTEXTS_DIR = new URL('../../../contexts/', import.meta.url)

export interface RemoteDocument {
  contextUrl: null
  documentUrl: string
  document: unknown
  tag?: 'static'
}

export type DocumentLoader = (url: string) => Promise<RemoteDocument>

/** Thrown for any URL the loader does not hold: JSON-LD processing never reaches the network. */
export class DocumentNotAvailableError extends Error {
  readonly code = 'document_not_available'
  constructor (readonly url: string) {
    super(`The document "${url}" is not available offline.`)
    this.name = 'DocumentNotAvailableError'
  }
}

function loadStaticContexts (): ReadonlyMap<string, unknown> {
  const map = JSON.parse(readFileSync(new URL('url-map.json', CONTEXTS_DIR), 'utf8')) as Record<string, string>
  const contexts = new Map<string, unknown>()
  for (const [url, file] of Object.entries(map)) {
    contexts.set(url, Object.freeze(JSON.parse(readFileSync(fileURLToPath(new URL(file, CONTEXTS_DIR)), 'utf8'))))
  }
  return contexts
}

/** Every JSON-LD context the service knows, keyed by URL, read once from `contexts/`. */
export const STATIC_CONTEXTS: ReadonlyMap<string, unknown> = loadStaticContexts()

export const CONTEXTS = {
  credentialsV1: 'https://www.w3.org/2018/credentials/v1',
  credentialsV2: 'https://www.w3.org/ns/credentials/v2',
  openBadgesV3: 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json',
  /** Defines 1EdTechCredentialRefresh (refreshService), among other 1EdTech terms. */
  openBadgesExtensions: 'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json',
  multikeyV1: 'https://w3id.org/security/multikey/v1',
  didV1: 'https://www.w3.org/ns/did/v1',
  jwkV1: 'https://w3id.org/security/jwk/v1',
  dataIntegrityV2: 'https://w3id.org/security/data-integrity/v2'
} as const

/**
 * The exact `@context` lists this service signs credentials with. A
 * credential naming one of our issuers with any other list (an inline context,
 * an extra URL) was not made here.
 */
export const ISSUED_CONTEXT_LISTS: ReadonlyArray<readonly string[]> = [
  // Since versions (issue 7): every credential names its refresh service.
  [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3, CONTEXTS.openBadgesExtensions],
  // Credentials issued before versions existed.
  [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3]
]

/**
 * Builds a document loader that serves the static contexts and, after them,
 * whatever `resolve` returns for other URLs (keys, controller documents).
 * Anything else throws DocumentNotAvailableError.
 */
export function createDocumentLoader (resolve?: (url: string) => Promise<unknown>): DocumentLoader {
  return async (url: string) => {
    const context = STATIC_CONTEXTS.get(url)
    if (context !== undefined) return { contextUrl: null, documentUrl: url, document: context, tag: 'static' }
    const document = resolve === undefined ? undefined : await resolve(url)
    if (document === undefined || document === null) throw new DocumentNotAvailableError(url)
    return { contextUrl: null, documentUrl: url, document }
  }
}

/** The loader for documents that only need the static contexts (signing, safe-mode expansion). */
export const staticDocumentLoader: DocumentLoader = createDocumentLoader()
