import { LRUCache } from 'lru-cache'
import type { Sql } from 'postgres'
import { findStatusRecordWithListHead, isStoredDocument, isStoredSignature } from '../credentials/store.js'
import { findEd25519Key, findPublishedKey } from '../keys/store.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { parsePublicUrl } from '../../kernel/public-urls.js'
import { findStatusListBits, findStatusListHead } from '../status-lists/store.js'
import { ownershipClassifier } from './ownership.js'
import { SourceUnavailableError, type VerificationSources } from './sources.js'
import type { ForeignResolvers } from './foreign/foreign-sources.js'
import type { RecognisedIssuers } from '../registry/lookup.js'
import type { OwnRecordsCache } from './own-records-cache.js'
import { SIGNING_KEYS_CHANGED } from '../keys/key-ring-refresh.js'

/**
 * The verifier's view of this service's own issuers, keys and status lists,
 * read from the database. Other issuers' keys and status lists come from
 * `foreign` (foreign/foreign-sources.ts: the network through the app's cache,
 * a budget per verification); without it they are never fetched and the
 * checks that need them report `unknown`. Which foreign issuers are
 * recognised comes from the registry (`registry`: the app's copy, kept
 * current by the change feed). A database error, there or here, becomes
 * SourceUnavailableError, which the pipeline reports as indeterminate.
 *
 * The lists' bits are kept by version (a list is 16 KiB and more), up to
 * `bitsBytes` (16 MiB by default: a thousand lists of the default size); the
 * app makes one of these and shares it between its routes.
 *
 * With `records` (the app's, kept current by its change feed), keys and
 * status records are read once and then served from memory until they
 * change: a verification of a credential seen before asks PostgreSQL nothing.
 */
export function databaseSources (sql: Sql, urls: PublicUrls, registry: Pick<RecognisedIssuers, 'find'>, clockLeewaySeconds?: number, bitsBytes = 16 * 1024 * 1024, foreign?: () => ForeignResolvers, records?: OwnRecordsCache): VerificationSources {
  const ownership = ownershipClassifier(urls.base)
  const bitsCache = new LRUCache<string, { bits: Buffer, version: number }>({ maxSize: bitsBytes, sizeCalculation: (list, id) => list.bits.length + id.length + 64 })
  const own = (url: string, kind: 'issuer' | 'key' | 'status-list'): string | undefined => {
    const parsed = parsePublicUrl(urls.base, url)
    return parsed?.kind === kind && parsed.fragment === undefined ? parsed.id : undefined
  }
  const read = async <T>(what: string, query: () => Promise<T>): Promise<T> => {
    try {
      return await query()
    } catch (error) {
      throw new SourceUnavailableError(`The service's records of its own ${what} could not be read.`, { cause: error })
    }
  }
  const remembered = async <T>(key: string, tagsOf: (value: T) => readonly string[] | undefined, load: () => Promise<T>): Promise<T> =>
    records === undefined ? await load() : await records.get(key, tagsOf, load)
  // A key's copy is tagged with the announcement every key change makes.
  const keyTags = (): readonly string[] => [SIGNING_KEYS_CHANGED]
  const sources: VerificationSources = {
    ownership,
    recognisedIssuer: async (issuerId) => {
      try {
        return await registry.find(issuerId)
      } catch (error) {
        throw new SourceUnavailableError('The service\'s registry of recognised issuers could not be read.', { cause: error })
      }
    },
    ...(clockLeewaySeconds !== undefined ? { clockLeewaySeconds } : {}),

    findOwnEd25519Key: async (issuerId, publicKeyMultibase) => {
      const id = own(issuerId, 'issuer')
      if (id === undefined) return undefined
      const key = await remembered(`ed25519:${id}\u0000${publicKeyMultibase}`, keyTags, async () => await read('keys', async () => await findEd25519Key(sql, id, publicKeyMultibase)))
      return key === undefined ? undefined : { id: key.id, status: key.status, ...(key.compromisedAt !== null ? { compromisedAt: key.compromisedAt } : {}) }
    },

    findOwnJwtKey: async (kid) => {
      const id = own(kid, 'key')
      if (id === undefined) return undefined
      const key = await remembered(`key:${id}`, keyTags, async () => await read('keys', async () => await findPublishedKey(sql, id)))
      if (key === undefined || key.algorithm === 'Ed25519') return undefined
      return { issuerId: urls.issuer(key.issuerId), publicJwk: key.publicJwk, alg: key.algorithm, status: key.status, ...(key.compromisedAt !== null ? { compromisedAt: key.compromisedAt } : {}) }
    },

    findOwnStatusList: async (url, recordIndex) => {
      const id = own(url, 'status-list')
      if (id === undefined) return undefined
      // The head and record come from memory until the list or the credential changes
      // (own-records-cache.ts); the 16 KiB of bits are read again only when the version moved.
      const { head, record } = recordIndex === undefined
        ? { head: await remembered(`list:${id}`, (found) => found === undefined ? undefined : [`status-list:${id}`], async () => await read('status lists', async () => await findStatusListHead(sql, id))), record: undefined }
        // An index without a credential (yet) is not remembered: it may be issued next.
        : await remembered(`record:${id}:${recordIndex}`,
          (found) => found.record === undefined ? undefined : [`status-list:${id}`, `credential:${found.record.credentialId}`],
          async () => await read('status lists', async () => await findStatusRecordWithListHead(sql, id, recordIndex)))
      if (head === undefined) return undefined
      let cached = bitsCache.get(id)
      if (cached?.version !== head.version) {
        const fresh = await read('status lists', async () => await findStatusListBits(sql, id))
        if (fresh === undefined) return undefined
        cached = fresh
        bitsCache.set(id, fresh)
      }
      return {
        issuerId: urls.issuer(head.issuerId),
        purpose: head.purpose,
        size: head.size,
        bits: cached.bits,
        ...(record === undefined
          ? {}
          : {
              record: {
                credentialUrl: urls.credential(record.credentialId),
                version: record.version,
                currentVersion: record.currentVersion,
                recertification: record.recertification,
                ...(record.supersededAt !== null ? { supersededAt: record.supersededAt } : {}),
                ...(record.revokedAt !== null ? { revokedAt: record.revokedAt } : {}),
                ...(record.renewedAt !== null ? { renewedAt: record.renewedAt } : {}),
                ...(record.currentValidUntil !== null ? { currentValidUntil: record.currentValidUntil } : {})
              }
            })
      }
    },

    isOwnSignature: async (signature) => await read('credentials', async () => await isStoredSignature(sql, signature)),

    isOwnDocument: async (sha256Hex) => await read('credentials', async () => await isStoredDocument(sql, sha256Hex)),

    fetchStatusListCredential: async () => undefined,

    // Each verification gets its own fetch budget over the app's one cache.
    ...(foreign === undefined
      ? {}
      : {
          forVerification: () => {
            const resolvers = foreign()
            return {
              ...sources,
              findForeignKey: resolvers.findForeignKey,
              findForeignJwtKey: resolvers.findForeignJwtKey,
              fetchStatusListCredential: resolvers.fetchStatusDocument
            }
          }
        })
  }
  return sources
}
