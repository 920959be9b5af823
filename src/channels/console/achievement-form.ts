import type { ErrorObject } from 'ajv'
import { ACHIEVEMENT_TYPES, createAchievementBody, type CreateAchievementBody } from '../../capabilities/achievements/schemas.js'
import type { RecertificationPolicy } from '../../capabilities/achievements/recertification-rules.js'
import { renewalAdvice } from '../../capabilities/achievements/renewal-advice.js'
import type { AchievementRow } from '../../capabilities/achievements/store.js'
import { validatorCompiler } from '../../infrastructure/http/validator-compiler.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { AppError } from '../../kernel/errors.js'
import { addMonths } from '../../kernel/time.js'

/**
 * The achievement form of the console: its fields as text (what a browser
 * posts), the definition they make, judged by the staff API's own schema
 * (so the form cannot accept what the API refuses), and what the rules will
 * tell holders (renewalAdvice, the one wording every page and email uses).
 */

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const number = { type: 'string', maxLength: 12 } as const

/** The form's fields, as the body schema of the routes that take it. */
export const ACHIEVEMENT_FORM_FIELDS = {
  name: text(200),
  description: text(5000),
  narrative: text(20000),
  criteriaUrl: text(2048),
  achievementType: text(100),
  validityMonths: number,
  ceMinPoints: number,
  ceMinApprovedPoints: number,
  ceGraceMonths: number,
  exam: { type: 'string', enum: ['yes', 'no'] },
  feeAmount: number,
  feeCurrency: text(3),
  feeReference: text(500)
} as const

export type AchievementForm = { [K in keyof typeof ACHIEVEMENT_FORM_FIELDS]: string }

/** What the form names each field on the page, for refusals. */
const LABELS: Record<string, string> = {
  '/name': 'Name',
  '/description': 'Description',
  '/criteria': 'Criteria',
  '/criteria/narrative': 'Criteria',
  '/criteria/id': 'Criteria URL',
  '/achievementType': 'Type',
  '/validityMonths': 'Validity (months)',
  '/recertification/continuingEducation/minPoints': 'CE minimum points',
  '/recertification/continuingEducation/minApprovedPoints': 'CE minimum approved points',
  '/recertification/continuingEducation/graceMonths': 'Grace months',
  '/recertification/renewalFee': 'Renewal fee',
  '/recertification/renewalFee/amount': 'Renewal fee amount',
  '/recertification/renewalFee/currency': 'Renewal fee currency',
  '/recertification/renewalFee/reference': 'Renewal fee reference'
}

/** The definition the form makes; null is "none" (no type, no expiry, exam-only rules). */
export interface AchievementDefinitionForm {
  name: string
  description: string
  criteria: { id?: string, narrative?: string }
  achievementType: string | null
  validityMonths: number | null
  recertification: RecertificationPolicy | null
}

/** The empty form: exam allowed, as the service's default rules are. */
export const EMPTY_FORM: AchievementForm = { name: '', description: '', narrative: '', criteriaUrl: '', achievementType: '', validityMonths: '', ceMinPoints: '', ceMinApprovedPoints: '', ceGraceMonths: '', exam: 'yes', feeAmount: '', feeCurrency: '', feeReference: '' }

/** The form as a browser posted it; an unticked checkbox (exam) is absent, so absent is "no". */
export function formFromBody (body: Partial<Record<keyof AchievementForm, string>>): AchievementForm {
  const form = { ...EMPTY_FORM }
  for (const key of Object.keys(EMPTY_FORM) as Array<keyof AchievementForm>) form[key] = body[key] ?? ''
  form.exam = body.exam === 'yes' ? 'yes' : 'no'
  return form
}

/** The form filled in with an achievement as it is. */
export function formOf (row: AchievementRow): AchievementForm {
  const ce = row.recertification?.continuingEducation
  const fee = row.recertification?.renewalFee
  const given = (n: number | undefined): string => n === undefined ? '' : String(n)
  return {
    name: row.name,
    description: row.description,
    narrative: row.criteria.narrative ?? '',
    criteriaUrl: row.criteria.id ?? '',
    achievementType: row.achievementType ?? '',
    validityMonths: row.validityMonths === null ? '' : String(row.validityMonths),
    ceMinPoints: given(ce?.minPoints),
    ceMinApprovedPoints: given(ce?.minApprovedPoints),
    ceGraceMonths: given(ce?.graceMonths),
    exam: row.recertification?.exam === false ? 'no' : 'yes',
    feeAmount: given(fee?.amount),
    feeCurrency: fee?.currency ?? '',
    feeReference: fee?.reference ?? ''
  }
}

/** The type choices: the OB vocabulary, and an "ext:" type the achievement already has. */
export function typeChoices (current: string): string[] {
  return current !== '' && !(ACHIEVEMENT_TYPES as readonly string[]).includes(current) ? [current, ...ACHIEVEMENT_TYPES] : [...ACHIEVEMENT_TYPES]
}

const validateDefinition = validatorCompiler({ schema: createAchievementBody, method: 'POST', url: '/console/achievements', httpPart: 'body' }) as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

function refusal (error: ErrorObject | undefined): AppError {
  if (error === undefined) return new AppError('validation_failed', 'The form could not be read.')
  const path = error.keyword === 'required' ? `${error.instancePath}/${String(error.params.missingProperty)}` : error.instancePath
  const label = LABELS[path] ?? LABELS[error.instancePath] ?? (path === '' ? 'The form' : path.slice(1))
  const message = error.keyword === 'pattern' && path === '/recertification/renewalFee/currency'
    ? 'must be a three-letter ISO 4217 code such as USD'
    : error.keyword === 'pattern' && path.startsWith('/criteria/id')
      ? 'must be an http(s) URL'
      : error.keyword === 'pattern' || error.keyword === 'minLength' || error.keyword === 'minProperties' ? 'must not be empty' : error.message ?? 'is not valid'
  return new AppError('validation_failed', `"${label}" ${message}.`)
}

/** A whole number typed in a field, undefined when empty. */
function whole (form: AchievementForm, field: keyof AchievementForm, label: string): number | undefined {
  const value = form[field].trim()
  if (value === '') return undefined
  if (!/^\d+$/.test(value)) throw new AppError('validation_failed', `"${label}" must be a whole number.`)
  return Number(value)
}

/**
 * The definition the form makes, judged by the staff API's schema: a refusal
 * names the field as the page labels it.
 */
export function definitionOf (form: AchievementForm): AchievementDefinitionForm {
  const validityMonths = whole(form, 'validityMonths', 'Validity (months)')
  const minPoints = whole(form, 'ceMinPoints', 'CE minimum points')
  const minApprovedPoints = whole(form, 'ceMinApprovedPoints', 'CE minimum approved points')
  const graceMonths = whole(form, 'ceGraceMonths', 'Grace months')
  if (minPoints === undefined && (minApprovedPoints !== undefined || graceMonths !== undefined)) {
    throw new AppError('validation_failed', '"CE minimum points" is needed to offer continuing education; leave the other CE fields empty for exam-only rules.')
  }
  const feeAmount = form.feeAmount.trim()
  if (feeAmount !== '' && !/^\d+(\.\d{1,2})?$/.test(feeAmount)) throw new AppError('validation_failed', '"Renewal fee amount" must be a number such as 150 or 150.00.')
  const currency = form.feeCurrency.trim().toUpperCase()
  const reference = form.feeReference.trim()
  const hasFee = feeAmount !== '' || currency !== '' || reference !== ''
  const recertification: RecertificationPolicy = {
    ...(minPoints === undefined ? {} : { continuingEducation: { minPoints, ...(minApprovedPoints === undefined ? {} : { minApprovedPoints }), ...(graceMonths === undefined ? {} : { graceMonths }) } }),
    exam: form.exam === 'yes',
    ...(hasFee ? { renewalFee: { ...(feeAmount === '' ? {} : { amount: Number(feeAmount) }), ...(currency === '' ? {} : { currency }), ...(reference === '' ? {} : { reference }) } as NonNullable<RecertificationPolicy['renewalFee']> } : {})
  }
  const narrative = form.narrative.trim()
  const criteriaUrl = form.criteriaUrl.trim()
  const body: CreateAchievementBody = {
    name: form.name.trim(),
    description: form.description.trim(),
    criteria: { ...(criteriaUrl === '' ? {} : { id: criteriaUrl }), ...(narrative === '' ? {} : { narrative }) },
    ...(form.achievementType === '' ? {} : { achievementType: form.achievementType as NonNullable<CreateAchievementBody['achievementType']> }),
    ...(validityMonths === undefined ? {} : { validityMonths }),
    recertification
  }
  if (!validateDefinition(body)) throw refusal(validateDefinition.errors?.[0])
  return {
    name: body.name,
    description: body.description,
    criteria: body.criteria,
    achievementType: body.achievementType ?? null,
    validityMonths: validityMonths ?? null,
    // Exam only, no fee: the service's default, kept as "no rules" (as an achievement defined without any).
    recertification: isDefaultRules(recertification) ? null : recertification
  }
}

const isDefaultRules = (policy: RecertificationPolicy | null): boolean =>
  policy === null || (policy.continuingEducation === undefined && policy.renewalFee === undefined && policy.exam !== false)

/** Whether two sets of rules say the same thing (no rules is exam only; the one CE window is the default). */
export function sameRules (a: RecertificationPolicy | null, b: RecertificationPolicy | null): boolean {
  if (isDefaultRules(a) && isDefaultRules(b)) return true
  const norm = (p: RecertificationPolicy | null): unknown => {
    const ce = p?.continuingEducation
    const fee = p?.renewalFee
    return [ce === undefined ? null : [ce.minPoints, ce.minApprovedPoints ?? 0, ce.graceMonths ?? 0], p?.exam !== false, fee === undefined ? null : [fee.amount, fee.currency, fee.reference ?? '']]
  }
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b))
}

/** The rules in one line, for lists and confirmations. */
export function rulesInWords (policy: RecertificationPolicy | null): string {
  const ce = policy?.continuingEducation
  const ways = [
    ...(ce === undefined
      ? []
      : [`continuing education: ${ce.minPoints} points${(ce.minApprovedPoints ?? 0) > 0 ? ` (${ce.minApprovedPoints ?? 0} of them approved)` : ''}, ${(ce.graceMonths ?? 0) === 0 ? 'before expiry' : `up to ${ce.graceMonths ?? 0} month${ce.graceMonths === 1 ? '' : 's'} after expiry`}`]),
    ...(policy?.exam === false ? [] : ['the exam'])
  ]
  const fee = policy?.renewalFee
  const renewal = ways.length === 0 ? 'No renewal' : `Renewal by ${ways.join('; or ')}`
  return `${renewal}${fee === undefined ? '' : `. Renewal fee ${fee.amount.toFixed(2)} ${fee.currency}${fee.reference === undefined ? '' : ` (${fee.reference})`}`}.`
}

export interface AdviceSample { badge: string, validUntil: string, advice: string }

/**
 * What holders will read under these rules for three sample badges (expiring
 * in 6 months, expired 1 and 4 months ago), as renewalAdvice words it for
 * every page, email and PDF.
 */
export function adviceSamples (policy: RecertificationPolicy | null, now: Date): AdviceSample[] {
  const samples: Array<[string, Date]> = [
    ['A badge expiring in 6 months', addMonths(now, 6)],
    ['A badge that expired 1 month ago', addMonths(now, -1)],
    ['A badge that expired 4 months ago', addMonths(now, -4)]
  ]
  return samples.map(([badge, validUntil]) => ({
    badge,
    validUntil: longDate(validUntil) ?? validUntil.toISOString().slice(0, 10),
    advice: renewalAdvice({ policy, validUntil, now }).sentence ?? 'Nothing: it cannot be renewed.'
  }))
}

/** The changes an edit makes, in words, field by field (empty: nothing changes). */
export function changesInWords (row: AchievementRow, next: AchievementDefinitionForm): string[] {
  const quoted = (s: string): string => `“${s.length > 80 ? `${s.slice(0, 79)}…` : s}”`
  const months = (n: number | null): string => n === null ? 'no expiry' : `${n} months`
  return [
    ...(row.name !== next.name ? [`The name changes from ${quoted(row.name)} to ${quoted(next.name)}.`] : []),
    ...(row.description !== next.description ? [`The description changes to ${quoted(next.description)}.`] : []),
    ...((row.criteria.narrative ?? '') !== (next.criteria.narrative ?? '') || (row.criteria.id ?? '') !== (next.criteria.id ?? '') ? ['The criteria change.'] : []),
    ...((row.achievementType ?? '') !== (next.achievementType ?? '') ? [`The type changes from ${row.achievementType ?? 'none'} to ${next.achievementType ?? 'none'}.`] : []),
    ...(row.validityMonths !== next.validityMonths ? [`The validity changes from ${months(row.validityMonths)} to ${months(next.validityMonths)}, for badges issued or renewed from now on; existing badges keep their dates.`] : []),
    ...(!sameRules(row.recertification, next.recertification) ? [`The recertification rules change from “${rulesInWords(row.recertification)}” to “${rulesInWords(next.recertification)}” Holders' pages, emails and PDFs word their renewal advice from the new rules at once.`] : [])
  ]
}

/** The form as hidden fields of a confirmation (the unticked checkbox as "no"). */
export const hiddenFieldsOf = (form: AchievementForm): Record<string, string> => ({ ...form })
