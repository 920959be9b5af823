import { decodeJwt } from 'jose'
import { isObject, type JsonObject } from '../../kernel/json.js'
import { asArray, issuerId, issuerName, validFrom, validUntil } from '../verification/credential-fields.js'
import { credentialFromPayload } from '../verification/jwt-claims.js'
import { parseInput } from '../verification/parse-input.js'

/**
 * What a person is shown of any Open Badges credential, ours or another
 * issuer's, VCDM 2.0 or 1.1 (the 1EdTech "Displayer" role): read from the
 * document, never trusted for the verdict (that is the verifier's job).
 */
export interface DisplayFields {
  id?: string
  achievement: { name: string, description?: string, criteria?: string, achievementType?: string }
  image?: { url: string, alt: string }
  holderName?: string
  issuerName: string
  issued?: string
  validFrom?: string
  validUntil?: string
}

const text = (value: unknown): string | undefined => typeof value === 'string' && value.trim() !== '' ? value : undefined

/** The credential object inside any accepted input (JSON-LD, compact JWS, enveloped); undefined when unreadable. */
export function credentialOf (input: unknown): JsonObject | undefined {
  const parsed = parseInput(input)
  if (parsed.kind === 'json-ld') return parsed.credential
  if (parsed.kind !== 'jwt') return undefined
  try {
    return credentialFromPayload(decodeJwt(parsed.jwt) as JsonObject)
  } catch {
    return undefined
  }
}

/**
 * Images a page may show: ours, https (the viewer's browser fetches them, as
 * any displayer does; the service never does), or data: raster and SVG images
 * (an <img> never runs script in an SVG).
 */
const displayableImage = (url: string | undefined, ownBase: string): string | undefined =>
  url !== undefined && (url.startsWith(`${ownBase}/`) || url.startsWith('https://') || /^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/.test(url)) ? url : undefined

export function displayFields (credential: JsonObject, ownBase: string): DisplayFields {
  const subject = asArray(credential.credentialSubject).find(isObject)
  const achievement = isObject(subject?.achievement) ? subject.achievement : {}
  const criteria = isObject(achievement.criteria) ? text(achievement.criteria.narrative) : undefined
  const image = isObject(achievement.image) ? achievement.image : typeof achievement.image === 'string' ? { id: achievement.image } : undefined
  const imageUrl = displayableImage(text(image?.id), ownBase)
  const name = text(achievement.name) ?? text(credential.name) ?? 'Unnamed achievement'
  const holderName = text(subject?.name)
  const description = text(achievement.description)
  const achievementType = text(achievement.achievementType)
  const issued = text(credential.awardedDate) ?? validFrom(credential)
  const from = validFrom(credential)
  const until = validUntil(credential)
  const id = text(credential.id)
  return {
    ...(id !== undefined ? { id } : {}),
    achievement: { name, ...(description !== undefined ? { description } : {}), ...(criteria !== undefined ? { criteria } : {}), ...(achievementType !== undefined ? { achievementType } : {}) },
    ...(imageUrl !== undefined ? { image: { url: imageUrl, alt: text(isObject(image) ? image.caption : undefined) ?? `${name} badge` } } : {}),
    ...(holderName !== undefined ? { holderName } : {}),
    issuerName: issuerName(credential) ?? issuerId(credential) ?? 'Unknown issuer',
    ...(issued !== undefined ? { issued } : {}),
    ...(from !== undefined ? { validFrom: from } : {}),
    ...(until !== undefined ? { validUntil: until } : {})
  }
}
