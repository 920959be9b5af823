import { parse } from 'csv-parse/sync'
import type { FastifyBaseLogger } from 'fastify'
import { AppError, problemForError, type ProblemDocument } from '../errors.js'
import { validatorCompiler } from '../http/validator-compiler.js'
import { issueCredential, type IssueDeps, type IssuedCredential } from './issue-credential.js'
import { issueCredentialBody, type IssueCredentialBody } from './schemas.js'

export const MAX_BATCH_ITEMS = 1000

/** The CSV columns: the first three are required, the dates optional. */
const CSV_COLUMNS = ['achievementId', 'name', 'email', 'validFrom', 'validUntil', 'awardedDate'] as const
const REQUIRED_CSV_COLUMNS = CSV_COLUMNS.slice(0, 3)

// Items are validated one by one with the issue route's own schema, so one
// bad item gets its own problem instead of sinking the request.
const validateItem = validatorCompiler({ schema: issueCredentialBody, httpPart: 'body', method: 'POST', url: '/credentials/batch' }) as
  ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string, message?: string, params: unknown, keyword: string, schemaPath: string }> | null }

export type BatchResult = IssuedCredential | ProblemDocument

/**
 * Reads a spreadsheet export: a header row naming the columns (any order,
 * achievementId,name,email required; validFrom,validUntil,awardedDate
 * optional) and one credential per row. Empty optional cells are left out.
 * A malformed file or header is a 400 for the whole request; bad values in a
 * row are that row's problem, found later by the item schema.
 */
export function itemsFromCsv (text: string): unknown[] {
  let rows: string[][]
  try {
    rows = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false, max_record_size: 64 * 1024 }) as string[][]
  } catch (error) {
    throw new AppError('validation_failed', `The CSV cannot be read: ${(error as Error).message}`)
  }
  const [header, ...records] = rows
  if (header === undefined) throw new AppError('validation_failed', 'The CSV is empty; the first row must name the columns (achievementId,name,email).')
  const unknown = header.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name))
  if (unknown.length > 0) throw new AppError('validation_failed', `The CSV header names unknown columns: ${unknown.map((c) => `"${c}"`).join(', ')}. Columns: ${CSV_COLUMNS.join(', ')}.`)
  const missing = REQUIRED_CSV_COLUMNS.filter((name) => !header.includes(name))
  if (missing.length > 0) throw new AppError('validation_failed', `The CSV header lacks the columns ${missing.map((c) => `"${c}"`).join(', ')}.`)
  if (new Set(header).size !== header.length) throw new AppError('validation_failed', 'The CSV header names a column twice.')
  if (records.length === 0) throw new AppError('validation_failed', 'The CSV has a header but no rows.')
  if (records.length > MAX_BATCH_ITEMS) throw new AppError('validation_failed', `A batch holds at most ${MAX_BATCH_ITEMS} credentials; the CSV has ${records.length} rows.`)
  return records.map((record) => {
    const cell = (name: string): string | undefined => {
      const value = record[header.indexOf(name)]
      return value === undefined || value === '' ? undefined : value
    }
    // A missing cell is a missing property, so the item schema names it.
    const present = (names: readonly string[], rename: (name: string) => string = (n) => n): Record<string, string> =>
      Object.fromEntries(names.flatMap((name) => { const value = cell(name); return value === undefined ? [] : [[rename(name), value]] }))
    return { ...present(['achievementId']), recipient: present(['name', 'email']), ...present(['validFrom', 'validUntil', 'awardedDate']) }
  })
}

function invalidItem (index: number, errors: NonNullable<typeof validateItem.errors>): ProblemDocument {
  const { problem } = problemForError({ validation: errors, validationContext: `items[${index}]` })
  return problem
}

/**
 * Issues each item in its own transaction, a few at a time, and answers in
 * input order: the issued credential or that item's problem. One bad item
 * never sinks the others.
 */
export async function issueBatch (deps: Omit<IssueDeps, 'now'> & { clock: () => Date, log: FastifyBaseLogger, notify?: boolean }, items: readonly unknown[], concurrency = 4): Promise<BatchResult[]> {
  const results: BatchResult[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      const item = items[index]
      if (!validateItem(item)) {
        results[index] = invalidItem(index, validateItem.errors ?? [])
        continue
      }
      try {
        results[index] = await issueCredential({ ...deps, now: deps.clock() }, deps.notify === false ? { ...(item as IssueCredentialBody), notify: false } : item as IssueCredentialBody)
      } catch (error) {
        const { problem, serverFault } = problemForError(error)
        if (serverFault) deps.log.error({ err: error, item: index }, 'batch item failed')
        results[index] = problem
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return results
}
