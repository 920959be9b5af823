import type { Sql } from 'postgres'
import { findAchievement, type AchievementRow } from '../achievements/store.js'
import type { Config } from '../../kernel/config.js'
import { findCredential, findSignedVersion, type CredentialRow, type SignedVersionRow } from '../credentials/store.js'
import type { JsonObject } from '../../kernel/json.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import type { VerificationResult } from '../verification/result.js'
import { verifyCredential, type Verifier } from '../verification/verify-credential.js'
import type { Palette } from '../../infrastructure/web/images.js'
import { findDesign, type Design } from '../design/store.js'
import { displayFields, type DisplayFields } from './display.js'
import { statusBanner, type Banner } from './status-banner.js'

export interface HolderDeps {
  sql: Sql
  urls: PublicUrls
  config: Config
  /** The app's verifier (sources, Data Integrity threads, cache of content-only checks). */
  verifier: Verifier
  now: Date
}

/** Everything the page, the images and the PDFs show about one version, with its live status. */
export interface HolderView {
  credential: CredentialRow
  version: SignedVersionRow
  achievement: AchievementRow
  document: JsonObject
  fields: DisplayFields
  result: VerificationResult
  banner: Banner
  noun: string
  palette: Palette
  /** The achievement's design with its images' bytes, when asked for and it has one; its colours are already in `palette`. */
  design?: Design
}

/**
 * Loads a version (the current one by default) and judges it with the same
 * verifier the API uses. With `design`, also the achievement's design (for
 * the images and PDFs; the page does not need its bytes).
 */
export async function loadHolderView (deps: HolderDeps, id: string, versionNumber?: number, options: { design?: boolean } = {}): Promise<HolderView | undefined> {
  const credential = await findCredential(deps.sql, id)
  const version = credential === undefined ? undefined : await findSignedVersion(deps.sql, id, versionNumber)
  const achievement = credential === undefined ? undefined : await findAchievement(deps.sql, credential.achievementId)
  if (credential === undefined || version === undefined || achievement === undefined) return undefined
  const document = JSON.parse(version.document) as JsonObject
  const result = await verifyCredential(document, { ...deps.verifier, now: deps.now })
  const fields = displayFields(document, deps.urls.base)
  const noun = fields.achievement.achievementType === 'Certification' ? 'certification' : 'badge'
  const banner = statusBanner({
    result,
    noun,
    issuerName: fields.issuerName,
    ...(fields.validUntil !== undefined ? { validUntil: fields.validUntil } : {}),
    ...(fields.validFrom !== undefined ? { validFrom: fields.validFrom } : {}),
    ...(credential.revokedAt !== null ? { revokedAt: credential.revokedAt } : {}),
    recertification: achievement.recertification,
    now: deps.now
  })
  const design = options.design === true ? await findDesign(deps.sql, achievement.id, { withBytes: true }) : undefined
  const palette = { primary: design?.primaryColor ?? deps.config.branding.primaryColor, accent: design?.accentColor ?? deps.config.branding.accentColor }
  return { credential, version, achievement, document, fields, result, banner, noun, palette, ...(design !== undefined ? { design } : {}) }
}

/** The words stamped across a printed certificate or card that is not valid now. */
export function printStamp (banner: Banner): string | undefined {
  const stamps: Record<Banner['tone'], string | undefined> = { valid: undefined, expired: 'EXPIRED', revoked: 'REVOKED', superseded: 'REPLACED', pending: 'NOT YET VALID', invalid: 'NOT VERIFIED' }
  return stamps[banner.tone]
}
