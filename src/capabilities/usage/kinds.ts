/**
 * What is counted, per credential and UTC day (migrations/0014_usage_counts.sql).
 *
 * Verification channels, by how the credential reached the verifier:
 * - `verification_api`: a machine asked (POST /credentials/verify with JSON,
 *   a JWT or a link; GET /credentials/:id/verification).
 * - `verification_page`: a person used the public /verify page.
 * - `verification_image`: a baked badge image was verified (an image body to
 *   POST /credentials/verify, or an image uploaded on /verify).
 * Fetching badge.png or badge.svg is a download (`download_image`), not a
 * verification: nothing was checked.
 */
export const USAGE_KINDS = [
  'page_view',
  'verification_api', 'verification_page', 'verification_image',
  'linkedin_click',
  'download_json', 'download_jwt', 'download_pdf', 'download_image'
] as const

export type UsageKind = (typeof USAGE_KINDS)[number]

/** One counted request. */
export interface UsageHit {
  credentialId: string
  kind: UsageKind
}
