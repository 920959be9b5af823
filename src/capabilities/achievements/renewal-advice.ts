import { longDate } from '../../infrastructure/web/dates.js'
import { continuingEducationDeadline, type RecertificationPolicy } from './recertification-rules.js'

/**
 * What a holder can do to renew a credential, decided once from the
 * achievement's rules, the version's end date and the clock. Every rendering
 * (the public page, "My badges", /verify, the PDFs, the preview images, the
 * emails, the verify API's notice) words its advice from this one answer, so
 * no two of them can disagree about the same badge on the same day.
 *
 * The windows are the ones `decideRecertification` enforces: continuing
 * education is accepted through the day `validUntil` plus the grace months
 * (continuingEducationDeadline),
 * the exam always unless the rules say `exam: false`.
 */
export interface RenewalAdvice {
  /**
   * Where the credential stands: it never expires; it is still valid; it has
   * expired but continuing education is still accepted; it has expired and
   * continuing education is no longer accepted (or never was).
   */
  state: 'no_expiry' | 'valid' | 'in_grace' | 'lapsed'
  /** The last moment continuing education is accepted, when it still is; absent when that way is closed or not offered. */
  continuingEducationUntil?: Date
  /** When the continuing-education window closed, for a lapsed credential whose rules had one. */
  continuingEducationClosedOn?: Date
  /** Whether passing the exam again renews it. */
  exam: boolean
  /** The advice in one or two sentences ("It can …"); absent when there is nothing to renew. */
  sentence?: string
}

export function renewalAdvice (input: {
  policy: RecertificationPolicy | null | undefined
  /** The version's validUntil (absent: it never expires). */
  validUntil: string | Date | null | undefined
  now: Date
}): RenewalAdvice {
  const { policy, now } = input
  const exam = policy?.exam !== false
  if (input.validUntil === undefined || input.validUntil === null) return { state: 'no_expiry', exam }
  const validUntil = new Date(input.validUntil)
  if (Number.isNaN(validUntil.getTime())) return { state: 'no_expiry', exam }

  const ce = policy?.continuingEducation
  const deadline = ce === undefined ? undefined : continuingEducationDeadline(validUntil, ce.graceMonths ?? 0)
  const ceOpen = deadline !== undefined && now.getTime() <= deadline.getTime()
  // As the verifier judges it: valid up to and including validUntil.
  const expired = now.getTime() > validUntil.getTime()
  const byExam = 'by passing the certification exam again'

  if (!expired) {
    const sentence = ceOpen
      ? `It can be renewed by continuing education until ${day(deadline)}${exam ? `, or ${byExam}` : ''}.`
      : exam ? `It can be renewed ${byExam}.` : undefined
    return { state: 'valid', exam, ...(ceOpen ? { continuingEducationUntil: deadline } : {}), ...(sentence === undefined ? {} : { sentence }) }
  }
  if (ceOpen) {
    const after = exam ? `; after that, only ${byExam}` : '; after that, it can no longer be renewed'
    return { state: 'in_grace', exam, continuingEducationUntil: deadline, sentence: `It can still be renewed by continuing education until ${day(deadline)}${after}.` }
  }
  const closed = deadline === undefined ? '' : `Renewal by continuing education closed on ${day(deadline)}. `
  return {
    state: 'lapsed',
    exam,
    ...(deadline === undefined ? {} : { continuingEducationClosedOn: deadline }),
    sentence: exam ? `${closed}It can be renewed ${byExam}.` : `${closed}It can no longer be renewed.`.trim()
  }
}

const day = (date: Date): string => longDate(date) ?? date.toISOString().slice(0, 10)
