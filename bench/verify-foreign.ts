// The cost of verifying another issuer's credential never seen before (issue 23),
// through POST /credentials/verify of the real app over real HTTP, against a
// loopback "issuer" (a Fastify app in this process, reached under
// OUTBOUND_ALLOW_LOOPBACK) that serves did:web documents and signed Bitstring
// status lists. Three cases, each over `count` credentials never verified before:
//   - foreign, cold: every credential has its own did:web issuer (its own path),
//     so its DID document and its status list (and the list's own proof) are
//     fetched and verified each time: nothing of the issuer is in the cache;
//   - foreign, key and list cached: one issuer, fetched once before measuring;
//   - our own credentials (issued through the API), for comparison.
// Every issuer is in the registry, so the answers are `valid`. Prints the median,
// p90 and the rate; asserts nothing. The loopback issuer shares the process and
// the machine's cores with the service, so the network share here is the
// cheapest it can be: a real issuer adds its round trips.
// Run: npx tsx bench/verify-foreign.ts [count]   (default 100; DATABASE_URL to use a running PostgreSQL)
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import Fastify from 'fastify'
import { staticDocumentLoader } from '../src/infrastructure/jsonld/document-loader.js'
import { emptyBitstring, encodeList } from '../src/capabilities/status-lists/bitstring.js'
import { startBenchService } from './harness.js'

type Json = Record<string, unknown>
const count = Number(process.argv[2] ?? 100)
// A published 1EdTech TEST key (the test fixtures'): the bench signs as the foreign issuer.
const key = (JSON.parse(readFileSync(new URL('../test/fixtures/ob3/keys/test-keys.json', import.meta.url), 'utf8')) as
  { ed25519_multikey: Array<{ publicKeyMultibase: string, secretKeyMultibase: string }> }).ed25519_multikey[0]!

// The loopback issuer: serves what `served` holds, cacheable for five minutes as a real issuer's would be.
const served = new Map<string, string>()
const issuerApp = Fastify()
issuerApp.get('/*', async (request, reply) => {
  const body = served.get(request.url)
  if (body === undefined) return await reply.code(404).send('not here')
  return await reply.headers({ 'content-type': 'application/json', 'cache-control': 'max-age=300' }).send(body)
})
await issuerApp.listen({ port: 0, host: '127.0.0.1' })
const port = (issuerApp.server.address() as AddressInfo).port
const base = `http://127.0.0.1:${port}`

async function sign (unsigned: Json, verificationMethod: string, controller: string): Promise<Json> {
  const keyPair = await Ed25519Multikey.from({ id: verificationMethod, controller, type: 'Multikey', ...key })
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: new Date('2024-04-01T00:00:00Z') })
  return await vc.issue({ credential: structuredClone(unsigned), suite, documentLoader: staticDocumentLoader })
}

/** Issuer `n`: did:web:127.0.0.1%3A<port>:issuers:<n>, its DID document and its signed revocation list, served. */
async function standUpIssuer (n: number): Promise<{ did: string, method: string, list: string }> {
  const did = `did:web:127.0.0.1%3A${port}:issuers:${n}`
  const method = `${did}#key-1`
  const list = `${base}/issuers/${n}/status`
  served.set(`/issuers/${n}/did.json`, JSON.stringify({
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [{ id: method, type: 'Multikey', controller: did, publicKeyMultibase: key.publicKeyMultibase }],
    assertionMethod: [method]
  }))
  served.set(`/issuers/${n}/status`, JSON.stringify(await sign({
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: list,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: did,
    validFrom: '2024-01-01T00:00:00Z',
    validUntil: '2031-01-01T00:00:00Z',
    credentialSubject: { id: `${list}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: encodeList(emptyBitstring(131_072)) }
  }, method, did)))
  return { did, method, list }
}

async function foreignBadge (issuer: { did: string, method: string, list: string }, i: number): Promise<Json> {
  return await sign({
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer.did, type: ['Profile'], name: 'Northwind Phlebotomy Board' },
    validFrom: '2024-04-01T00:00:00Z',
    validUntil: '2031-03-31T00:00:00Z',
    name: 'Phlebotomy Technician',
    credentialSubject: {
      type: ['AchievementSubject'],
      name: `Holder ${i}`,
      achievement: { id: 'https://northwind.example/achievements/cpt', type: ['Achievement'], name: 'Phlebotomy Technician', description: 'Certified.', criteria: { narrative: 'Passed the exam.' } }
    },
    credentialStatus: { id: `${issuer.list}#${i}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(i), statusListCredential: issuer.list }
  }, issuer.method, issuer.did)
}

const service = await startBenchService({ OUTBOUND_ALLOW_LOOPBACK: 'true', RATE_LIMIT_VERIFY_PER_MINUTE: '1000000', PUBLIC_BASE_URL: 'https://badges.bench.example' })
const post = async (url: string, body: unknown, headers: Record<string, string> = service.headers): Promise<{ status: number, body: any }> => {
  const response = await fetch(`${service.address}${url}`, { method: 'POST', headers, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() }
}
const recognise = async (did: string): Promise<void> => {
  const added = await post('/api/v1/registry/issuers', { issuerId: did, name: `Bench issuer ${did}` })
  if (added.status !== 201) throw new Error(`registering ${did}: ${added.status} ${JSON.stringify(added.body)}`)
}

async function measure (label: string, documents: unknown[]): Promise<void> {
  const times: number[] = []
  const statuses = new Map<string, number>()
  const started = performance.now()
  for (const document of documents) {
    const start = performance.now()
    const answer = await post('/credentials/verify', { verifiableCredential: document }, { 'content-type': 'application/json' })
    times.push(performance.now() - start)
    const status = String(answer.body.status ?? answer.status)
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
  }
  const seconds = (performance.now() - started) / 1000
  times.sort((a, b) => a - b)
  const at = (q: number): string => times[Math.floor(q * (times.length - 1))]!.toFixed(1)
  console.log(`${label}: median ${at(0.5)} ms, p90 ${at(0.9)} ms, ${(documents.length / seconds).toFixed(1)}/s over ${documents.length} (${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')})`)
}

try {
  // Everything signed and registered before the clock runs: the figures are the verifier's.
  const warmIssuer = await standUpIssuer(0)
  await recognise(warmIssuer.did)
  const cold: Json[] = []
  for (let n = 1; n <= count; n++) {
    const issuer = await standUpIssuer(n)
    await recognise(issuer.did)
    cold.push(await foreignBadge(issuer, n))
  }
  const cached: Json[] = []
  for (let i = 0; i < count + 5; i++) cached.push(await foreignBadge(warmIssuer, 1000 + i))
  const own: unknown[] = []
  for (let done = 0; done < count + 5; done += 500) {
    const items = Array.from({ length: Math.min(500, count + 5 - done) }, (_, i) => ({ achievementId: service.achievementId, recipient: { name: `Holder ${done + i}`, email: `holder${done + i}@example.org` } }))
    for (const r of (await post('/api/v1/credentials/batch', { items })).body.results as Array<{ credential: unknown }>) own.push(r.credential)
  }
  // Warm-up: JSON-LD contexts, schema compiler, signature code; and issuer 0's key and list into the cache.
  await measure('warm-up (issuer 0 and own, discarded)', [...cached.slice(0, 5), ...own.slice(0, 5)])
  await measure('foreign did:web, never seen, key and list not cached (DID document + status list + its proof fetched)', cold)
  await measure('foreign did:web, never seen, key and list cached', cached.slice(5))
  await measure('own credential, never seen', own.slice(5))
} finally {
  await service.close()
  await issuerApp.close()
}
