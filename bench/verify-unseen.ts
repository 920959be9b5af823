// The cost of verifying Data Integrity credentials never seen before, in this
// process (Data Integrity tasks inline, no threads): each credential is unique,
// so nothing comes from a cache. Prints the median, p90 and the rate for
// honest credentials and for ones whose JSON departs from the plain reading
// (validUntil as a typed value object: the same signed dataset, which the
// signed-data judgement must canonicalise twice to compare).
// Run: npx tsx bench/verify-unseen.ts [count]   (default 400)
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { signDataIntegrity } from '../src/infrastructure/signing/sign.js'
import { noSources, type VerificationSources } from '../src/capabilities/verification/sources.js'
import { verifyCredential } from '../src/capabilities/verification/verify-credential.js'

const count = Number(process.argv[2] ?? 400)
const now = new Date('2026-07-01T00:00:00Z')
const issuer = 'https://registry.example.org/issuers/1'
// A self-asserted key: trusted, as a deployment listing the issuer in TRUSTED_ISSUERS would.
const sources: VerificationSources = { ...noSources, recognisedIssuer: async (id) => ({ entryId: 'bench', name: id }) }

const key = await Ed25519Multikey.generate()
const keyPair = await Ed25519Multikey.from({ ...(await key.export({ publicKey: true, secretKey: true })), id: `${issuer}#${key.publicKeyMultibase as string}`, controller: issuer })

function credential (i: number): Record<string, unknown> & { id: string, issuer: { id: string, type: string[], name: string } } {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Example Registry' },
    validFrom: '2025-01-01T00:00:00Z',
    validUntil: '2030-01-01T00:00:00Z',
    name: `Phlebotomy Technician ${i}`,
    credentialSubject: {
      type: ['AchievementSubject'],
      name: `Holder ${i}`,
      achievement: { id: 'https://registry.example.org/achievements/pt', type: ['Achievement'], name: 'Phlebotomy Technician', description: 'Certified.', criteria: { narrative: 'Passed the exam.' } }
    }
  }
}

async function measure (label: string, documents: unknown[]): Promise<void> {
  const times: number[] = []
  const statuses = new Map<string, number>()
  const started = performance.now()
  for (const document of documents) {
    const start = performance.now()
    const result = await verifyCredential(document, { now, sources })
    times.push(performance.now() - start)
    statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1)
  }
  const seconds = (performance.now() - started) / 1000
  times.sort((a, b) => a - b)
  const at = (q: number): string => times[Math.floor(q * (times.length - 1))]!.toFixed(2)
  console.log(`${label}: median ${at(0.5)} ms, p90 ${at(0.9)} ms, ${(documents.length / seconds).toFixed(0)}/s over ${documents.length} (${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')})`)
}

const signed = []
for (let i = 0; i < count * 2 + 20; i++) signed.push(await signDataIntegrity(credential(i), { keyId: 'bench', verificationMethod: keyPair.id as string, keyPair }, now))
// Warm-up: JSON-LD contexts, the schema compiler, the signature code.
for (const document of signed.slice(0, 20)) await verifyCredential(document, { now, sources })
await measure('honest, never seen', signed.slice(20, 20 + count))
await measure('validUntil as a typed value object, never seen', signed.slice(20 + count).map((d) => ({ ...d, validUntil: { '@value': d.validUntil, '@type': 'http://www.w3.org/2001/XMLSchema#dateTime' } })))
