import t from 'tap'
import { DocumentCache } from '../src/infrastructure/caching/document-cache.js'
import { build, buildSecondInstance, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { waitFor } from './helpers/notifications.js'

/**
 * The in-memory document caches (credential versions, status lists) with
 * two instances on one database: a change through one is seen by the
 * other's verify API at once (it reads status live), and by its cached GETs
 * as soon as PostgreSQL delivers the change notification.
 */

t.test('two instances: a revocation and a correction through one are seen by the other', async (t) => {
  const a = await build(t)
  const b = await buildSecondInstance(t, a)
  const achievement = await createAchievement(a, CMA_ACHIEVEMENT)
  const issued = await issue(a, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const credentialPath = new URL(issued.url).pathname
  const listPath = new URL(issued.credential.credentialStatus.statusListCredential).pathname
  const index = Number(issued.credential.credentialStatus.statusListIndex)

  // B serves both from memory after the first read.
  const firstCredential = await b.app.inject({ url: credentialPath })
  const firstList = await b.app.inject({ url: listPath })
  t.equal(firstCredential.statusCode, 200)
  t.equal(firstList.statusCode, 200)
  t.equal(b.app.documents.credentials.size, 1, 'B cached the credential')
  t.equal(b.app.documents.statusLists.size, 1, 'B cached the list')
  t.equal((await b.app.inject({ url: credentialPath, headers: { 'if-none-match': firstCredential.headers.etag as string } })).statusCode, 304, 'a strong ETag: 304 when unchanged')

  // Revoke through A.
  const revoked = await a.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/revoke`, headers: a.auth, payload: { reason: 'Issued in error' } })
  t.equal(revoked.statusCode, 200)
  const verdict = await b.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: issued.credential } })
  t.equal(verdict.json().status, 'revoked', 'B\'s verify API says revoked at once (status is read live)')
  const started = performance.now()
  const list = await waitFor('B to serve the re-signed list', async () => {
    const response = await b.app.inject({ url: listPath })
    return response.headers.etag !== firstList.headers.etag ? response : undefined
  }, 5000)
  // B's cache keeps an entry 60 s: within these 5 s only the change notification can have dropped the old list.
  t.not(list.headers.etag, firstList.headers.etag, 'B serves the re-signed list, told by the change notification')
  // Diagnostic only: wall-clock on a shared machine is no assertion.
  t.comment(`B served the re-signed list ${(performance.now() - started).toFixed(0)} ms after the revocation returned`)
  const bits = Buffer.from(list.json().credentialSubject.encodedList.slice(1), 'base64url')
  const { gunzipSync } = await import('node:zlib')
  const bitstring = gunzipSync(bits)
  t.equal((bitstring[Math.floor(index / 8)]! >> (7 - (index % 8))) & 1, 1, 'with the credential\'s bit set')

  // A correction (new version) through A: B's current-version GET follows.
  const second = await issue(a, { achievementId: achievement.id, recipient: { name: 'Sam Lee', email: 'sam@example.org' } })
  const secondPath = new URL(second.url).pathname
  const before = (await b.app.inject({ url: secondPath })).body
  const corrected = await a.app.inject({ method: 'POST', url: `/api/v1/credentials/${second.id}/reissue`, headers: a.auth, payload: { reason: 'correction', recipient: { name: 'Sam J. Lee' } } })
  t.equal(corrected.statusCode, 201)
  const after = await waitFor('B to serve version 2', async () => {
    const body = (await b.app.inject({ url: secondPath })).body
    return body !== before ? body : undefined
  }, 5000)
  t.match(after, /Sam J\. Lee/, 'B serves the corrected version')
  const version1 = await b.app.inject({ url: `${secondPath}/versions/1` })
  t.equal(version1.body, before, 'version 1 stays byte for byte at its own URL')
  t.equal(version1.headers['cache-control'], 'public, max-age=31536000, immutable')
})

t.test('the instance that makes a change never serves the old copy afterwards', async (t) => {
  const a = await build(t)
  const achievement = await createAchievement(a, CMA_ACHIEVEMENT)
  const issued = await issue(a, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  const path = new URL(issued.url).pathname
  const listPath = new URL(issued.credential.credentialStatus.statusListCredential).pathname
  const list = await a.app.inject({ url: listPath })
  t.equal((await a.app.inject({ url: path })).statusCode, 200)
  await a.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/reissue`, headers: a.auth, payload: { reason: 'correction', recipient: { name: 'Jane Q. Smith' } } })
  t.match((await a.app.inject({ url: path })).body, /Jane Q\. Smith/, 'the next GET has the new version, no waiting')
  t.not((await a.app.inject({ url: listPath })).headers.etag, list.headers.etag, 'and the re-signed list (the old version\'s bit was set)')
})

t.test('the cache stays within its byte budget, least recently used out first, and never stores a read that raced a change', async (t) => {
  const cache = new DocumentCache<{ text: string, bytes: number }>(1000)
  const doc = (text: string): { text: string, bytes: number } => ({ text, bytes: 100 })
  for (let i = 0; i < 10; i++) await cache.read(`k${i}`, async () => doc(`v${i}`))
  t.equal(cache.totalBytes, 1000)
  await cache.read('k0', async () => doc('never read: cached'))
  await cache.read('k10', async () => doc('v10'))
  t.equal(cache.totalBytes, 1000, 'still within budget')
  t.equal((await cache.read('k0', async () => doc('reloaded')))?.text, 'v0', 'the recently used entry stayed')
  t.equal((await cache.read('k1', async () => doc('reloaded')))?.text, 'reloaded', 'the least recently used went')
  t.equal(await cache.read('missing', async () => undefined), undefined, 'nothing is cached for a miss')

  // A read that started before an invalidation must not store what it read.
  let release: () => void = () => {}
  const slow = cache.read('raced', async () => { await new Promise<void>((resolve) => { release = resolve }); return doc('old') })
  cache.invalidate('raced')
  release()
  t.equal((await slow)?.text, 'old', 'the racing read still answers its own request')
  t.equal((await cache.read('raced', async () => doc('new')))?.text, 'new', 'but the next read goes to the source')
  cache.clear()
  t.equal(cache.size, 0)
})
