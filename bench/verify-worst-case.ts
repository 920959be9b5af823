// The most expensive verification the limits allow: a credential at the JSON
// value and depth limits carrying the maximum number of proofs, each of which
// verifies. Prints the time of one verifyCredential call (median of a few).
// Run: npx tsx bench/verify-worst-case.ts
import * as vc from '@digitalbazaar/vc'
import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { staticDocumentLoader } from '../src/infrastructure/jsonld/document-loader.js'
import { LIMITS, exceedsVerifyLimits } from '../src/capabilities/verification/limits.js'
import { noSources } from '../src/capabilities/verification/sources.js'
import { verifyCredential } from '../src/capabilities/verification/verify-credential.js'

const issuer = 'https://registry.example.org/issuers/1'
const now = new Date('2026-07-01T00:00:00Z')

// Evidence entries are the cheapest way to pack many triples into an OB credential.
function credential (evidenceCount: number): Record<string, unknown> {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:0b6f5a2e-6a0c-4d52-9d2b-4a1f5d6e7c80',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Example Registry' },
    validFrom: '2020-01-01T00:00:00Z',
    name: 'Worst case',
    credentialSubject: {
      type: ['AchievementSubject'],
      achievement: { id: 'https://registry.example.org/achievements/1', type: ['Achievement'], name: 'Worst case', description: 'x', criteria: { narrative: 'x' } }
    },
    evidence: Array.from({ length: evidenceCount }, (_, i) => ({ id: `https://registry.example.org/evidence/${i}`, type: ['Evidence'], name: `Evidence ${i}`, description: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit.' }))
  }
}

// The largest evidence list (with room for three proofs) that stays inside the limits.
let count = 1
while (exceedsVerifyLimits({ ...credential(count * 2), proof: [{}, {}, {}].map(() => ({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 })) }) === undefined) count *= 2
let low = count; let high = count * 2
while (high - low > 1) {
  const mid = Math.floor((low + high) / 2)
  if (exceedsVerifyLimits({ ...credential(mid), proof: [{}, {}, {}].map(() => ({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 })) }) === undefined) low = mid
  else high = mid
}

let signed: Record<string, unknown> = credential(low)
const key = await Ed25519Multikey.generate()
const verificationMethod = `${issuer}#${key.publicKeyMultibase}`
const keyPair = await Ed25519Multikey.from({ ...(await key.export({ publicKey: true, secretKey: true })), id: verificationMethod, controller: issuer })
const proofCount = Number(process.env.PROOFS ?? LIMITS.proofs)
for (let i = 0; i < proofCount; i++) {
  const suite = new DataIntegrityProof({ signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date: new Date(Date.UTC(2024, 0, 1 + i)) })
  signed = await vc.issue({ credential: signed, suite, documentLoader: staticDocumentLoader })
}
const bytes = Buffer.byteLength(JSON.stringify({ verifiableCredential: signed }))
const sources = { ...noSources, recognisedIssuer: async (id: string) => ({ entryId: 'bench', name: id }) }
const times: number[] = []
for (let run = 0; run < 5; run++) {
  const start = performance.now()
  const result = await verifyCredential(signed, { now, sources })
  times.push(performance.now() - start)
  if (result.status !== 'valid') throw new Error(`worst case did not verify: ${result.status} ${JSON.stringify(result.errors)}`)
}
times.sort((a, b) => a - b)
console.log(`worst allowed credential: ${low} evidence entries, ${proofCount} proofs, ${(bytes / 1024).toFixed(0)} KiB (limit ${LIMITS.bodyBytes / 1024} KiB): median ${times[2]!.toFixed(0)} ms, max ${times[4]!.toFixed(0)} ms per verification`)
