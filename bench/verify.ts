// Median cost of one verifyCredential call on the 1EdTech simple.json (eddsa-rdfc-2022) and a VC-JWT.
// Run: npx tsx bench/verify.ts
import { readFileSync } from 'node:fs'
import { noSources, type VerificationSources } from '../src/capabilities/verification/sources.js'
import { verifyCredential } from '../src/capabilities/verification/verify-credential.js'

const EXAMPLES = new URL('../test/fixtures/ob3/examples/', import.meta.url)
const now = new Date('2026-07-01T00:00:00Z')
// The example issuers' keys are self-asserted: trust them, as a deployment listing them in TRUSTED_ISSUERS would.
const sources: VerificationSources = { ...noSources, recognisedIssuer: async (id) => ({ entryId: 'bench', name: id }) }

async function measure (label: string, input: unknown, runs = 500): Promise<void> {
  const first = performance.now()
  const result = await verifyCredential(input, { now, sources })
  const firstMs = performance.now() - first
  if (result.status !== 'valid') throw new Error(`${label} did not verify: ${result.status}`)
  for (let i = 0; i < 50; i++) await verifyCredential(input, { now, sources })
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await verifyCredential(input, { now, sources })
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  const at = (q: number): string => times[Math.floor(q * (times.length - 1))]!.toFixed(3)
  console.log(`${label}: first ${firstMs.toFixed(1)} ms, median ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms (${runs} runs)`)
}

await measure('simple.json (eddsa-rdfc-2022)', JSON.parse(readFileSync(new URL('valid/validator/simple.json', EXAMPLES), 'utf8')))
await measure('simple-vcdm2-rs256-jwk.jwt (RS256)', readFileSync(new URL('valid/jwt/simple-vcdm2-rs256-jwk.jwt', EXAMPLES), 'utf8').trim())
