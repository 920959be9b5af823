import type { Sql } from 'postgres'
import type { Config } from '../../kernel/config.js'
import { notFound } from '../../kernel/errors.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { findAchievement } from '../achievements/store.js'
import { findIssuer } from '../issuers/store.js'
import { certificatePdf, walletCardPdf } from './printables.js'
import type { DesignBody } from './schemas.js'
import { findDesign, type Design } from './store.js'
import { designSettings } from './update-design.js'

export interface PreviewDeps {
  sql: Sql
  config: Config
  urls: PublicUrls
  now: Date
}

export interface PreviewOverrides {
  /** Settings not yet saved, drawn instead of the stored ones (the stored images are kept): the console's "preview before saving". */
  design?: DesignBody
  /** The sample holder's name (default "Alex Sample"). */
  holderName?: string
  /** The wallet card instead of the certificate. */
  card?: boolean
}

/**
 * A certificate (or wallet card) of the achievement for a sample holder,
 * drawn exactly as a holder's download would be with the achievement's
 * design (or the settings in `overrides.design`), stamped SAMPLE so a
 * screenshot of it is never taken for a credential. It signs nothing and
 * stores nothing.
 */
export async function previewCertificate (deps: PreviewDeps, achievementId: string, overrides: PreviewOverrides = {}): Promise<Buffer> {
  const achievement = await findAchievement(deps.sql, achievementId)
  if (achievement === undefined) throw notFound(`Achievement "${achievementId}"`)
  const stored = await findDesign(deps.sql, achievementId, { withBytes: true })
  const design = withOverrides(achievementId, stored, overrides.design, deps.now)
  const issuerName = (await findIssuer(deps.sql, achievement.issuerId))?.name ?? deps.config.issuer.name
  const until = achievement.validityMonths === null ? undefined : new Date(Date.UTC(deps.now.getUTCFullYear(), deps.now.getUTCMonth() + achievement.validityMonths, deps.now.getUTCDate()))
  const awardDate = longDate(deps.now)
  const validUntil = longDate(until)
  const sampleUrl = `${deps.urls.base}/credentials/sample`
  const printable = {
    holderName: overrides.holderName ?? 'Alex Sample',
    achievementName: achievement.name,
    issuerName,
    ...(awardDate !== undefined ? { awardDate } : {}),
    ...(validUntil !== undefined ? { validUntil } : {}),
    credentialUrl: sampleUrl,
    credentialId: 'sample',
    statusLine: 'Sample: not a credential',
    stamp: 'SAMPLE',
    palette: { primary: design?.primaryColor ?? deps.config.branding.primaryColor, accent: design?.accentColor ?? deps.config.branding.accentColor }
  }
  return overrides.card === true ? await walletCardPdf(printable, design) : await certificatePdf(printable, design)
}

function withOverrides (achievementId: string, stored: Design | undefined, body: DesignBody | undefined, now: Date): Design | undefined {
  if (body === undefined) return stored
  return { achievementId, images: stored?.images ?? {}, updatedAt: stored?.updatedAt ?? now, updatedBy: stored?.updatedBy ?? '', ...designSettings(body) }
}
