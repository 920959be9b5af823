import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'
import type { RecertificationPolicy } from '../../achievements/recertification-rules.js'

export const EMAIL_KINDS = ['issued', 'renewed', 'corrected', 'reminder', 'expired'] as const
export type EmailKind = typeof EMAIL_KINDS[number]
/** The holders' portal's emails (portal/portal-email.ts): a sign-in link, and a staff refusal of an order or correction request. */
export const PORTAL_EMAIL_KINDS = ['sign-in', 'order-rejected'] as const
export type PortalEmailKind = typeof PORTAL_EMAIL_KINDS[number]

/** What every template sees as `it`. */
export interface EmailData {
  holderName: string
  achievementName: string
  issuerName: string
  credentialUrl: string
  verifyUrl: string
  linkedInAddToProfileUrl: string
  /** Long dates ("31 March 2031"), or null when the credential does not expire. */
  validUntil: string | null
  daysLeft: number | null
  /** The end of renewal by continuing education (expired notices), or null. */
  graceUntil: string | null
  renewalRules: string | null
  /** Reminders and expiry notices only. */
  unsubscribeUrl: string | null
  primaryColor: string
  accentColor: string
}

/** What the portal's templates see as `it`. */
export interface PortalEmailData {
  holderName: string | null
  issuerName: string
  /** sign-in: the single-use link and how long it lasts. */
  signInUrl?: string
  minutes?: number
  /** order-rejected: what was asked for and why staff said no. */
  request?: string
  reason?: string
  accountUrl: string
  orderUrl: string
  primaryColor: string
  accentColor: string
}

const BUILT_IN = fileURLToPath(new URL('../../../../templates/email/', import.meta.url))
const text = new Eta({ autoEscape: false, autoTrim: [false, 'nl'] })
const html = new Eta({ autoEscape: true, autoTrim: [false, 'nl'] })
const compiled = new Map<string, { mtimeMs: number, render: (data: object) => string }>()

/**
 * Renders one email: subject, text and HTML parts. Each part is looked up as
 * <overrides>/<issuerId>/<kind>.<part>.eta, then <overrides>/<kind>.<part>.eta,
 * then the built-in template (templates/email/), so staff can change one part
 * for one issuer without copying the rest. The HTML part is wrapped in
 * layout.html.eta (also overridable). Overrides are re-read when they change.
 */
export async function renderEmail (kind: EmailKind | PortalEmailKind, issuerId: string, data: EmailData | PortalEmailData, overridesDir?: string): Promise<{ subject: string, text: string, html: string }> {
  const subject = (await renderPart(`${kind}.subject.eta`, issuerId, overridesDir, text, data)).replace(/\s+/g, ' ').trim()
  const body = await renderPart(`${kind}.html.eta`, issuerId, overridesDir, html, data)
  return {
    subject,
    text: (await renderPart(`${kind}.text.eta`, issuerId, overridesDir, text, data)).replace(/\n{3,}/g, '\n\n').trim() + '\n',
    html: await renderPart('layout.html.eta', issuerId, overridesDir, html, { ...data, subject, body })
  }
}

async function renderPart (name: string, issuerId: string, overridesDir: string | undefined, engine: Eta, data: object): Promise<string> {
  const candidates = [
    ...(overridesDir !== undefined ? [path.join(overridesDir, issuerId, name), path.join(overridesDir, name)] : []),
    path.join(BUILT_IN, name)
  ]
  for (const file of candidates) {
    const info = await stat(file).catch(() => undefined)
    if (info === undefined) continue
    let entry = compiled.get(file)
    if (entry?.mtimeMs !== info.mtimeMs) {
      const fn = engine.compile(await readFile(file, 'utf8'))
      entry = { mtimeMs: info.mtimeMs, render: (it) => engine.render(fn, it) }
      compiled.set(file, entry)
    }
    return entry.render(data)
  }
  throw new Error(`No email template "${name}"`)
}

/** The achievement's renewal rules in plain words, for emails. */
export function renewalRulesInWords (policy: RecertificationPolicy | null | undefined): string | null {
  const parts: string[] = []
  const ce = policy?.continuingEducation
  if (ce !== undefined) {
    const approved = ce.minApprovedPoints !== undefined && ce.minApprovedPoints > 0 ? `, at least ${ce.minApprovedPoints} of them from approved continuing education units (CEUs)` : ''
    const grace = ce.graceMonths !== undefined && ce.graceMonths > 0 ? `, accepted until ${ce.graceMonths} month${ce.graceMonths === 1 ? '' : 's'} after the credential expires` : ', accepted until the credential expires'
    parts.push(`recertify by continuing education with ${ce.minPoints} points${approved}${grace}`)
  }
  if (policy?.exam !== false) parts.push(parts.length > 0 ? 'or by passing the exam again' : 'recertify by passing the exam again')
  if (parts.length === 0) return null
  const sentence = parts.join('; ')
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`
}
