import { exceedsJsonLimits } from '../../infrastructure/http/json-body.js'

/**
 * How much work one verification may cost. Every Data Integrity proof
 * canonicalises the whole document (RDFC-1.0 over its expanded triples), and
 * every status entry may read the database, so an unbounded credential is an
 * unbounded bill. The numbers leave a wide margin over real credentials: the
 * largest 1EdTech example (validator/complete.json, 25 KiB) has 553 JSON
 * nodes nested 11 deep and one proof; a VCDM 1.1 one is 31 KiB.
 */
export const LIMITS = {
  /** Proofs in one proof set. One is normal; two or three are an issuer migrating suites. */
  proofs: 3,
  /** credentialStatus entries: revocation, suspension, and room for a message or refresh list. */
  statusEntries: 4,
  /** JSON nesting depth of the credential; OB 3.0 credentials nest about a dozen levels. */
  depth: 32,
  /**
   * JSON values (objects, arrays and scalars) in the credential: five times the
   * largest example. Canonicalisation cost grows with it: at this limit, with
   * three proofs, one verification costs about 0.2 to 0.3 s of CPU (bench/verify-worst-case.ts).
   */
  nodes: 3_000,
  /** Bytes of a verify request body: ten times the largest example, with room for an embedded image. */
  bodyBytes: 256 * 1024,
  /** Wall-clock time for one verification before it gives up as indeterminate. */
  timeBudgetMs: 5_000
} as const

/** Why a credential is too big to verify (see LIMITS), or undefined. Iterative: safe on any depth. */
export const exceedsVerifyLimits = (value: unknown): string | undefined => exceedsJsonLimits(value, LIMITS)
