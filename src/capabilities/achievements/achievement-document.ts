import { embeddedIssuerProfile } from '../issuers/profile.js'
import type { IssuerRow } from '../issuers/store.js'
import { CONTEXTS } from '../../infrastructure/jsonld/document-loader.js'
import type { PublicUrls } from '../../kernel/public-urls.js'
import type { AchievementRow } from './store.js'

/** The OB 3.0 Achievement, as embedded in credentials (no @context). */
export function achievementDocument (achievement: AchievementRow, issuer: IssuerRow, urls: PublicUrls): Record<string, unknown> {
  return {
    id: urls.achievement(achievement.id),
    type: ['Achievement'],
    ...(achievement.achievementType !== null ? { achievementType: achievement.achievementType } : {}),
    name: achievement.name,
    description: achievement.description,
    criteria: achievement.criteria,
    ...(achievement.image !== null ? { image: { id: achievement.image.id, type: 'Image', ...(achievement.image.caption !== undefined ? { caption: achievement.image.caption } : {}) } } : {}),
    creator: embeddedIssuerProfile(issuer, urls)
  }
}

/** The Achievement served publicly at its id. */
export function publicAchievementDocument (achievement: AchievementRow, issuer: IssuerRow, urls: PublicUrls): Record<string, unknown> {
  return { '@context': [CONTEXTS.credentialsV2, CONTEXTS.openBadgesV3], ...achievementDocument(achievement, issuer, urls) }
}

/** The staff API's view: the short id, public URL, settings, whether it is archived, and the OB document. */
export function achievementResource (achievement: AchievementRow, issuer: IssuerRow, urls: PublicUrls): Record<string, unknown> {
  return {
    id: achievement.id,
    url: urls.achievement(achievement.id),
    issuerId: achievement.issuerId,
    validityMonths: achievement.validityMonths,
    recertification: achievement.recertification,
    createdAt: achievement.createdAt.toISOString(),
    updatedAt: achievement.updatedAt?.toISOString() ?? null,
    archived: achievement.archivedAt !== null,
    archivedAt: achievement.archivedAt?.toISOString() ?? null,
    imageFetchedFrom: achievement.imageFetchedFrom,
    achievement: achievementDocument(achievement, issuer, urls)
  }
}
