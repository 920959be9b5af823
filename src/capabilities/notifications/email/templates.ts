import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'
import type { RecertificationPolicy } from '../../achievements/recertification-rules.js'

export const EMAIL_KINDS = ['issued', 'renewed', 'corrected', 'reminder', 'expired', 'application-received', 'application-rejected'] as const
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
  /** The holder's account, "My badges" (absolute): every email links to it. */
  accountUrl: string
  linkedInAddToProfileUrl: string
  /** Long dates ("31 March 2031"), or null when the credential does not expire. */
  validUntil: string | null
  /** The version's validUntil has passed (an issued email for a back-dated record says so instead of "valid until"). */
  expired: boolean
  daysLeft: number | null
  /** renewalAdvice's sentence for this badge today: the same words as its page. */
  renewal: string | null
  /** What continuing education takes, only while renewalAdvice says that way is open. */
  continuingEducation: string | null
  /**
   * Where the holder stands in continuing education, while that way is open
   * (reminders, expiry notices, the application emails): progressInWords's
   * summary, the deadline (long date) and the record's page in the portal.
   */
  ceProgress: { summary: string, deadline: string, url: string, pending: boolean } | null
  /** The application emails: the points it counted, and staff's reason for a refusal. */
  application: { points: string, approvedPoints: string | null, reason: string | null } | null
  /** Reminders and expiry notices only. */
  unsubscribeUrl: string | null
  /** This email carries the account instructions (once per address). */
  accountInstructions: boolean
  /**
   * The emails that deliver a badge (issued, renewed, corrected): a
   * single-use wallet offer made for this email (its interaction URL, whose
   * page has the QR codes and the wallets' buttons), the OID4VCI transaction
   * code (in the text only, never in the link) and when it expires. Absent
   * for other emails, or when no offer could be made (the badge's hourly
   * limit of offers).
   */
  wallet?: { url: string, txCode: string, expires: string } | null
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
// No automatic trimming: eta's 'nl' trim also ate the newline after every
// output tag, so a URL at the end of a line ran into the next line. Control
// tags that stand on a line of their own end in `-%>` to drop their newline.
const text = new Eta({ autoEscape: false, autoTrim: false })
const html = new Eta({ autoEscape: true, autoTrim: false })
const compiled = new Map<string, { mtimeMs: number, render: (data: object) => string }>()

/**
 * Renders one email: subject, text and HTML parts. Each part is looked up as
 * <overrides>/<issuerId>/<kind>.<part>.eta, then <overrides>/<kind>.<part>.eta,
 * then the built-in template (templates/email/), so staff can change one part
 * for one issuer without copying the rest. Both bodies are wrapped in their
 * layout (layout.text.eta, layout.html.eta; also overridable), which adds
 * what every email has: the signature, the account instructions when owed,
 * the "My badges" link and, for reminders, the unsubscribe link. Overrides are
 * re-read when they change.
 */
export async function renderEmail (kind: EmailKind | PortalEmailKind, issuerId: string, data: EmailData | PortalEmailData, overridesDir?: string): Promise<{ subject: string, text: string, html: string }> {
  const subject = (await renderPart(`${kind}.subject.eta`, issuerId, overridesDir, text, data)).replace(/\s+/g, ' ').trim()
  const owed = 'accountInstructions' in data && data.accountInstructions
  const instructions = owed
    ? { text: (await renderPart('account-instructions.text.eta', issuerId, overridesDir, text, data)).trim(), html: await renderPart('account-instructions.html.eta', issuerId, overridesDir, html, data) }
    : { text: '', html: '' }
  const textBody = (await renderPart(`${kind}.text.eta`, issuerId, overridesDir, text, data)).trim()
  const textEmail = await renderPart('layout.text.eta', issuerId, overridesDir, text, { ...data, body: textBody, accountInstructions: instructions.text })
  const body = await renderPart(`${kind}.html.eta`, issuerId, overridesDir, html, data)
  return {
    subject,
    // Blank lines left by a condition that did not hold collapse to one.
    text: textEmail.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim() + '\n',
    html: await renderPart('layout.html.eta', issuerId, overridesDir, html, { ...data, subject, body, accountInstructions: instructions.html })
  }
}

async function renderPart (name: string, issuerId: string, overridesDir: string | undefined, engine: Eta, data: object): Promise<string> {
  const candidates = [
    ...(overridesDir !== undefined ? [path.join(overridesDir, issuerId, name), path.join(overridesDir, name)] : []),
    path.join(BUILT_IN, name)
  ]
  for (const file of candidates) {
    // The built-in templates ship with the service and never change under it: compiled once, never looked at again
    // (a stat per part per email was most of the file-system calls of a batch's emails). Overrides are checked each time.
    const shipped = file.startsWith(BUILT_IN) ? compiled.get(file) : undefined
    if (shipped !== undefined) return shipped.render(data)
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

/**
 * What renewing by continuing education takes (points), in plain words. The
 * windows (until when, and whether the exam still counts) are renewalAdvice's
 * to say; this only adds the requirement while that way is open.
 */
export function continuingEducationInWords (policy: RecertificationPolicy | null | undefined): string | null {
  const ce = policy?.continuingEducation
  if (ce === undefined) return null
  const approved = ce.minApprovedPoints !== undefined && ce.minApprovedPoints > 0 ? `, at least ${ce.minApprovedPoints} of them from approved continuing education units (CEUs)` : ''
  return `Renewal by continuing education takes ${ce.minPoints} points${approved}.`
}
