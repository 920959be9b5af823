import { AppError } from '../../kernel/errors.js'
import { PLACEHOLDERS, type Placeholder } from './schemas.js'

/**
 * The certificate's wording is plain text with a fixed set of {placeholders},
 * replaced by plain text when drawn: nothing in it is ever evaluated, and the
 * PDF draws text, so no markup can be injected.
 */

const PLACEHOLDER = /\{([^{}]*)\}/g

/** Refuses a line naming a placeholder that does not exist (a typo would otherwise print "{holdrName}" on every certificate). */
export function checkWording (field: string, text: string | null | undefined): void {
  if (text === null || text === undefined) return
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(match[1] ?? '')) {
      throw new AppError('validation_failed', `"${field}" names {${match[1] ?? ''}}, which is not a placeholder; use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}.`)
    }
  }
}

/** The line with each placeholder replaced by its value ("—" where there is none, as for a badge without an end date). */
export function fillWording (text: string, values: Partial<Record<Placeholder, string>>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => (PLACEHOLDERS as readonly string[]).includes(name) ? values[name as Placeholder] ?? '—' : whole)
}
