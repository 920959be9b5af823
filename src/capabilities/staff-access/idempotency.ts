import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../kernel/errors.js'
import { staffOf } from './bearer-auth.js'
import { claimIdempotencyKey, completeIdempotencyKey, findIdempotencyRecord, purgeIdempotencyKeys, releaseIdempotencyKey, takeOverAbandonedKey, type IdempotencyClaim, type IdempotencyRecord } from './idempotency-store.js'

/** Visible ASCII, as the IETF Idempotency-Key draft and Stripe accept (UUIDs, ULIDs, ...). */
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/
/** How long a retry waits for the first request to finish before answering 409. */
const WAIT_MS = 10_000
const POLL_MS = 50
/** A request in flight this long is taken to have died with its process. */
const ABANDONED_AFTER_S = 300
/** Keys are kept at least this long. */
const KEEP_HOURS = 24
/** Response headers worth replaying; the rest are recomputed. */
const REPLAYED_HEADERS = ['content-type', 'location']

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: IdempotencyClaim
  }
}

/** The request's fingerprint: a retry must send the same method, path and body. */
function requestHash (request: FastifyRequest): string {
  const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? null)
  return createHash('sha256').update(`${request.method} ${pathOf(request)}\n${body}`, 'utf8').digest('hex')
}

const pathOf = (request: FastifyRequest): string => request.url.split('?')[0] ?? request.url

async function replay (reply: FastifyReply, record: IdempotencyRecord): Promise<FastifyReply> {
  for (const [name, value] of Object.entries(record.responseHeaders ?? {})) void reply.header(name, value)
  return await reply.code(record.statusCode ?? 500).header('Idempotent-Replayed', 'true').send(record.responseBody ?? '')
}

/**
 * Makes every staff POST safe to retry (`Idempotency-Key` header): the first
 * request claims the key (an INSERT ... ON CONFLICT DO NOTHING, so racing
 * retries cannot both run), its answer is stored, and retries replay it byte
 * for byte. A retry arriving while the first is still running waits for it.
 * Server errors are not stored, so a retry after one runs again. Keys belong
 * to the API key that sent them.
 */
export function installIdempotency (app: FastifyInstance): void {
  let lastPurge = 0

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return
    const key = request.headers['idempotency-key']
    if (key === undefined) return
    if (typeof key !== 'string' || !KEY_FORMAT.test(key)) {
      throw new AppError('validation_failed', '"Idempotency-Key" must be 1 to 255 visible ASCII characters (a UUID is a good choice).')
    }
    if (Date.now() - lastPurge > 60_000) {
      lastPurge = Date.now()
      await purgeIdempotencyKeys(app.sql, KEEP_HOURS)
    }
    const claim: IdempotencyClaim = { actor: staffOf(request).actor, key, method: request.method, path: pathOf(request), requestHash: requestHash(request) }
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      if (await claimIdempotencyKey(app.sql, claim)) {
        request.idempotency = claim
        return
      }
      const record = await findIdempotencyRecord(app.sql, claim.actor, key)
      if (record === undefined) continue // released between our insert and read: claim again
      if (record.requestHash !== claim.requestHash) {
        throw new AppError('idempotency_key_reused', `The Idempotency-Key "${key}" was already used for a different request (${record.method} ${record.path} with another body). Use a new key for a new request.`)
      }
      if (record.statusCode !== null) return await replay(reply, record)
      if (await takeOverAbandonedKey(app.sql, claim, ABANDONED_AFTER_S)) {
        request.idempotency = claim
        return
      }
      if (Date.now() > deadline) {
        void reply.header('Retry-After', '1')
        throw new AppError('idempotency_in_flight', `A request with the Idempotency-Key "${key}" is still being served; retry shortly to get its answer.`)
      }
      await sleep(POLL_MS)
    }
  })

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency
    if (claim === undefined) return payload
    request.idempotency = undefined
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined
    if (reply.statusCode >= 500 || body === undefined) {
      await releaseIdempotencyKey(app.sql, claim.actor, claim.key)
      return payload
    }
    const headers: Record<string, string> = {}
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name)
      if (value !== undefined) headers[name] = String(value)
    }
    await completeIdempotencyKey(app.sql, claim.actor, claim.key, { statusCode: reply.statusCode, headers, body })
    return payload
  })
}
