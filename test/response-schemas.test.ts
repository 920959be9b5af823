import t from 'tap'
import type { Test } from 'tap'
import { BASE_URL, build, createAchievement, type issue, type TestApp } from './helpers/build-app.js'

/**
 * Response schemas are enforced, not only published: Fastify serializes JSON
 * replies with them (fast-json-stringify). A field a schema does not name
 * never leaves the service, one it requires must be there, and signed
 * documents never meet a serializer at all.
 */

/** Adds `leak` to the object a handler answers, and to each resource in its lists (free-form data such as audit snapshots is left alone). */
function leakInto (payload: unknown): void {
  if (typeof payload !== 'object' || payload === null) return
  for (const child of Object.values(payload)) {
    if (Array.isArray(child)) for (const item of child) if (typeof item === 'object' && item !== null) (item as Record<string, unknown>).leak = 'internal detail'
  }
  ;(payload as Record<string, unknown>).leak = 'internal detail'
}

t.test('a JSON envelope carries only what its schema names: a field a handler adds never leaves the service', async (t) => {
  const app = await issuedApp(t, (fastify) => {
    fastify.addHook('preSerialization', async (request, reply, payload) => {
      if (reply.statusCode < 300) leakInto(payload)
      // A JWK row that somehow held the private key: the schema of a public JWK has no "d".
      if (request.url === '/.well-known/jwks.json') for (const key of (payload as { keys: Array<Record<string, unknown>> }).keys) key.d = 'private key material'
      return payload
    })
  })
  const { credential } = app
  await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: 'https://crm.example.org/hooks', events: ['credential.issued'] } })
  for (const url of ['/api/v1/api-keys', '/api/v1/webhooks', '/api/v1/credentials', `/api/v1/credentials/${credential.id}`, '/api/v1/achievements', '/api/v1/audit-events', `/credentials/${credential.id}/versions`, `/credentials/${credential.id}/verification`, '/.well-known/jwks.json']) {
    const response = await app.app.inject({ method: 'GET', url, headers: app.auth })
    t.equal(response.statusCode, 200, `${url}: 200`)
    t.notMatch(response.body, /internal detail/, `${url}: no field the schema does not name`)
    t.notMatch(response.body, /private key material/, `${url}: no private key member`)
  }
  const answer = await app.app.inject({ method: 'POST', url: '/credentials/verify', payload: { verifiableCredential: credential.credential } })
  t.equal(answer.statusCode, 200)
  t.notMatch(answer.body, /internal detail/, 'the verification result carries only its documented fields')
  t.equal(answer.json().verified, true)
})

t.test('a required field a handler leaves out is a 500 problem, never a silent gap in the contract', async (t) => {
  const app = await issuedApp(t, (fastify) => {
    fastify.addHook('preSerialization', async (request, reply, payload) => {
      if (request.url.startsWith('/api/v1/credentials/') && reply.statusCode === 200) delete (payload as Record<string, unknown>).recipientEmail
      return payload
    })
  })
  const response = await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${app.credential.id}`, headers: app.auth })
  t.equal(response.statusCode, 500)
  t.match(response.headers['content-type'], /^application\/problem\+json/)
  t.equal(response.json().type, 'urn:tessera:problem:internal_error')
  t.notMatch(response.body, /ana@example\.com/)
})

t.test('signed documents come back byte for byte as stored, and never pass through a serializer', async (t) => {
  const serialized: string[] = []
  const app = await issuedApp(t, (fastify) => {
    fastify.addHook('preSerialization', async (request, reply, payload) => {
      if (reply.statusCode < 300) serialized.push(request.url)
      return payload
    })
  })
  const { credential } = app
  serialized.length = 0
  const [stored] = await app.sql<Array<{ document: string, jwt: string }>>`select document, jwt from credential_versions where credential_id = ${credential.id} and version = 1`
  const listUrl = (credential.credential.credentialStatus.statusListCredential as string).slice(BASE_URL.length)
  const [list] = await app.sql<Array<{ credential: string }>>`select credential from status_lists where id = ${listUrl.split('/').pop() ?? ''}`
  t.ok(stored !== undefined && list !== undefined)
  const signedUrls: Array<[string, Record<string, string>, string]> = [
    [`/credentials/${credential.id}`, {}, stored!.document],
    [`/credentials/${credential.id}`, { accept: 'application/vc+ld+json' }, stored!.document],
    [`/credentials/${credential.id}`, { accept: 'application/vc+jwt' }, stored!.jwt],
    [`/credentials/${credential.id}/versions/1`, { accept: 'application/json' }, stored!.document],
    [`/credentials/${credential.id}/credential.jsonld`, {}, stored!.document],
    [`/credentials/${credential.id}/versions/1/credential.jwt`, {}, stored!.jwt],
    [listUrl, {}, list!.credential],
    [listUrl, { accept: 'application/json' }, list!.credential]
  ]
  for (const [url, headers, bytes] of signedUrls) {
    const response = await app.app.inject({ method: 'GET', url, headers })
    t.equal(response.statusCode, 200, `${url} ${headers.accept ?? ''}`)
    t.ok(response.rawPayload.equals(Buffer.from(bytes, 'utf8')), `${url} ${headers.accept ?? ''}: byte for byte as stored`)
  }
  t.same(serialized, [], 'no signed document went through the serializer (they are sent as the stored text)')

  // The staff envelopes hold the signed credential as it was signed: the stored text appears in them verbatim.
  t.ok(app.issuedBody.includes(stored!.document), 'POST /api/v1/credentials: the signed credential, verbatim inside the 201 envelope')
  const record = await app.app.inject({ method: 'GET', url: `/api/v1/credentials/${credential.id}`, headers: app.auth })
  t.ok(record.body.includes(stored!.document), 'GET /api/v1/credentials/{id}: the signed credential, verbatim inside the record')
  t.ok(record.body.includes(JSON.stringify(stored!.jwt)), 'and its VC-JWT')
  const batch = await app.app.inject({ method: 'POST', url: '/api/v1/credentials/batch', headers: app.auth, payload: { items: [{ achievementId: app.achievementId, recipient: { name: 'Bo Lin', email: 'bo@example.com' } }] } })
  t.equal(batch.statusCode, 207)
  const [batchStored] = await app.sql<Array<{ document: string }>>`select v.document from credential_versions v join credentials c on c.id = v.credential_id where c.recipient_email = 'bo@example.com'`
  t.ok(batchStored !== undefined && batch.body.includes(batchStored.document), 'POST /api/v1/credentials/batch: each signed credential verbatim in its result')
})

/** An app with one credential issued; `hooks` are installed first (the app is ready after the first request). */
async function issuedApp (t: Test, hooks: (app: TestApp['app']) => void): Promise<TestApp & { credential: Awaited<ReturnType<typeof issue>>, issuedBody: string, achievementId: string }> {
  const app = await build(t, { clock: () => new Date('2026-03-31T12:00:00Z') })
  hooks(app.app)
  const achievement = await createAchievement(app)
  const response = await app.app.inject({ method: 'POST', url: '/api/v1/credentials', headers: app.auth, payload: { achievementId: achievement.id, recipient: { name: 'Ana Ruiz', email: 'ana@example.com' } } })
  if (response.statusCode !== 201) throw new Error(response.body)
  return { ...app, credential: response.json(), issuedBody: response.body, achievementId: achievement.id }
}
