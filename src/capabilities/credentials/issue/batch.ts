import { parse } from 'csv-parse/sync'
import type { FastifyBaseLogger } from 'fastify'
import { AppError, problemDocument, type ProblemDocument } from '../../../kernel/errors.js'
import { problemForError } from '../../../infrastructure/http/error-handling.js'
import { validatorCompiler } from '../../../infrastructure/http/validator-compiler.js'
import { validationProblem, type SchemaError, type Wording } from '../../../infrastructure/http/validation-messages.js'
import { withExactDates } from './issue-dates.js'
import { normaliseEmail } from '../build-credential.js'
import { issueCredential, issueCredentialsIn, judgeIssueRequest, type IssueDeps, type IssuedCredential, type IssueOutcome } from './issue-credential.js'
import { findAchievement } from '../../achievements/store.js'
import { findHeldCredentials } from '../store.js'
import type { Db } from '../../../infrastructure/db/types.js'
import type { PublicUrls } from '../../../kernel/public-urls.js'

import { issueCredentialBody, type IssueCredentialBody } from '../schemas.js'

export const MAX_BATCH_ITEMS = 1000

/** The CSV columns: the first three are required, the dates optional. */
const CSV_COLUMNS = ['achievementId', 'name', 'email', 'validFrom', 'validUntil', 'awardedDate'] as const
const REQUIRED_CSV_COLUMNS = CSV_COLUMNS.slice(0, 3)

// Items are validated one by one with the issue route's own schema, so one
// bad item gets its own problem instead of sinking the request.
const validateItem = validatorCompiler({ schema: issueCredentialBody, httpPart: 'body', method: 'POST', url: '/credentials/batch' }) as
  ((data: unknown) => boolean) & { errors?: SchemaError[] | null }

export type BatchResult = IssuedCredential | ProblemDocument

/**
 * Where a CSV row is: its row number as a spreadsheet shows it (the header is
 * row 1) and the line of the file it starts on. They differ only after a
 * quoted cell that holds a line break (one row, several lines).
 */
export interface CsvRow { row: number, line: number }

/** A CSV column for an item field: the recipient's fields are the name and email columns. */
const columnOf = (field: string): string => field.replace(/^recipient\./, '')

/**
 * Reads a spreadsheet export: a header row naming the columns (any order,
 * achievementId,name,email required; validFrom,validUntil,awardedDate
 * optional) and one credential per row. Empty optional cells are left out.
 * A malformed file or header is a 400 for the whole request; bad values in a
 * row are that row's problem, found later by the item schema and named by
 * its row (rows, in the items' order).
 */
export function itemsFromCsv (text: string): { items: unknown[], rows: CsvRow[] } {
  let parsed: Array<{ record: string[], info: { lines: number } }>
  try {
    // With info: true each record comes with where it ends; csv-parse's types do not follow the option.
    parsed = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false, max_record_size: 64 * 1024, info: true }) as unknown as typeof parsed
  } catch (error) {
    throw new AppError('validation_failed', `The CSV cannot be read: ${(error as Error).message}`)
  }
  const [header, ...records] = parsed.map((p) => p.record)
  if (header === undefined) throw new AppError('validation_failed', 'The CSV is empty; the first row must name the columns (achievementId,name,email).')
  const unknown = header.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name))
  if (unknown.length > 0) throw new AppError('validation_failed', `The CSV header names unknown columns: ${unknown.map((c) => `"${c}"`).join(', ')}. Columns: ${CSV_COLUMNS.join(', ')}.`)
  const missing = REQUIRED_CSV_COLUMNS.filter((name) => !header.includes(name))
  if (missing.length > 0) throw new AppError('validation_failed', `The CSV header lacks the columns ${missing.map((c) => `"${c}"`).join(', ')}.`)
  if (new Set(header).size !== header.length) throw new AppError('validation_failed', 'The CSV header names a column twice.')
  if (records.length === 0) throw new AppError('validation_failed', 'The CSV has a header but no rows.')
  if (records.length > MAX_BATCH_ITEMS) throw new AppError('validation_failed', `A batch holds at most ${MAX_BATCH_ITEMS} credentials; the CSV has ${records.length} rows.`)

  // csv-parse counts the line a record ends on; a spreadsheet shows a blank
  // line as an empty row but a quoted line break as part of its cell.
  const rows: CsvRow[] = []
  let breaksBefore = 0
  for (const { record, info } of parsed) {
    const breaks = record.reduce((n, value) => n + (value.match(/\r\n|\r|\n/g)?.length ?? 0), 0)
    const line = info.lines - breaks
    rows.push({ row: line - breaksBefore, line })
    breaksBefore += breaks
  }
  const items = records.map((record) => {
    const cell = (name: string): string | undefined => {
      const value = record[header.indexOf(name)]
      return value === undefined || value === '' ? undefined : value
    }
    // A missing cell is a missing property, so the item schema names it.
    const present = (names: readonly string[], rename: (name: string) => string = (n) => n): Record<string, string> =>
      Object.fromEntries(names.flatMap((name) => { const value = cell(name); return value === undefined ? [] : [[rename(name), value]] }))
    return { ...present(['achievementId']), recipient: present(['name', 'email']), ...present(['validFrom', 'validUntil', 'awardedDate']) }
  })
  return { items, rows: rows.slice(1) }
}

/**
 * How an item is named in its problem: a CSV row as the spreadsheet numbers
 * it, with its columns ("Row 4: "email" must be an email address."); a JSON
 * item by its position and its index in "items", with its field paths.
 */
function itemWording (index: number, row: CsvRow | undefined): Wording & { lead: string } {
  if (row === undefined) return { lead: `Item ${index + 1} (items[${index}])`, whole: 'The item', field: (dotted) => `"${dotted}"` }
  return {
    lead: `Row ${row.row}${row.line !== row.row ? ` (line ${row.line} of the file)` : ''}`,
    whole: 'The row',
    field: (dotted) => `"${columnOf(dotted)}"`,
    missing: (dotted) => `"${columnOf(dotted)}" is empty; every row needs one.`
  }
}

function invalidItem (index: number, row: CsvRow | undefined, errors: readonly SchemaError[]): ProblemDocument {
  const { lead, ...wording } = itemWording(index, row)
  const { code, detail, extra } = validationProblem(errors, `items[${index}]`, wording)
  return problemDocument(code, `${lead}: ${detail}`, extra)
}

/** Items issued together in one transaction (issueCredentialsIn): large enough that statements are few, small enough to keep locks short. */
export const BATCH_CHUNK = 50

/**
 * Issues the valid items in chunks of BATCH_CHUNK, each chunk in one
 * transaction with a handful of statements (issueCredentialsIn, issue-credential.ts), two chunks in
 * flight so that one signs while the other writes (a holder named twice is
 * issued once, to the first in input order); answers in input order with
 * the issued credential or that item's problem. An item refused for its own
 * reason never sinks the others; when a chunk fails for any other reason it is
 * rolled back and its items are issued one by one, each in its own
 * transaction, so a fault is confined to the item that causes it.
 */
export async function issueBatch (deps: Omit<IssueDeps, 'now'> & { clock: () => Date, log: FastifyBaseLogger, notify?: boolean }, items: readonly unknown[], options: { csvRows?: readonly CsvRow[], concurrency?: number } = {}): Promise<BatchResult[]> {
  const { csvRows, concurrency = 2 } = options
  const results: BatchResult[] = new Array(items.length)
  const valid: Array<{ index: number, body: IssueCredentialBody }> = []
  items.forEach((item, index) => {
    if (!validateItem(item)) {
      results[index] = invalidItem(index, csvRows?.[index], validateItem.errors ?? [])
      return
    }
    const body = withExactDates(item as IssueCredentialBody)
    valid.push({ index, body: deps.notify === false ? { ...body, notify: false } : body })
  })
  // The first item in input order for a holder and achievement is issued
  // first; a repeat goes in a later round, after it has committed, and meets it
  // as a held credential (chunks run concurrently, so within a round which
  // repeat won would be chance).
  const rounds: Array<typeof valid> = []
  const occurrences = new Map<string, number>()
  for (const item of valid) {
    const key = `${item.body.achievementId} ${normaliseEmail(item.body.recipient.email)}`
    const round = occurrences.get(key) ?? 0
    occurrences.set(key, round + 1)
    ;(rounds[round] ??= []).push(item)
  }

  const answer = (index: number, outcome: IssuedCredential | unknown): void => {
    if (!(outcome instanceof Error) && typeof outcome === 'object' && outcome !== null && 'jwt' in outcome) {
      results[index] = outcome as IssuedCredential
      return
    }
    const { problem, serverFault } = problemForError(outcome)
    if (serverFault) deps.log.error({ err: outcome, item: index }, 'batch item failed')
    results[index] = problem
  }
  const issueChunk = async (chunk: typeof valid): Promise<void> => {
    const now = deps.clock()
    try {
      const outcomes = await deps.sql.begin(async (tx) => await issueCredentialsIn(tx, { ...deps, now }, chunk.map((c) => c.body))) as IssueOutcome[]
      chunk.forEach((c, i) => { answer(c.index, outcomes[i]) })
    } catch (error) {
      deps.log.warn({ err: error, items: chunk.length }, 'batch chunk failed; issuing its items one by one')
      for (const c of chunk) {
        try {
          answer(c.index, await issueCredential({ ...deps, now: deps.clock() }, c.body))
        } catch (itemError) {
          answer(c.index, itemError)
        }
      }
    }
  }
  for (const round of rounds) {
    const chunks: Array<typeof valid> = []
    for (let start = 0; start < round.length; start += BATCH_CHUNK) chunks.push(round.slice(start, start + BATCH_CHUNK))
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < chunks.length) await issueChunk(chunks[next++] as typeof valid)
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker))
  }
  return results
}

/** A batch item as issuing would judge it now: the achievement and period it would get, or why it would not be issued. */
export interface ItemPreview { achievementName?: string, validFrom?: Date, validUntil?: Date, problem?: string }

/**
 * Judges every item as issueBatch would, issuing nothing (the staff console's
 * CSV preview): the item schema, then judgeIssueRequest, the checks of every
 * issue; a holder named again after an earlier item is refused as issueBatch
 * refuses it, when the repeat meets the first as held. Without locks: a
 * preview can only be as current as the moment it was made, and issuing
 * judges every item again.
 */
export async function previewBatch (deps: { sql: Db, now: Date, urls: PublicUrls }, items: readonly unknown[], csvRows?: readonly CsvRow[]): Promise<ItemPreview[]> {
  const bodies = items.map((item) => validateItem(item) ? withExactDates(item as IssueCredentialBody) : validateItem.errors ?? [])
  const valid = bodies.filter((b): b is IssueCredentialBody => !Array.isArray(b))
  const achievementIds = [...new Set(valid.map((b) => b.achievementId))]
  const [achievements, held] = await Promise.all([
    Promise.all(achievementIds.map(async (id) => await findAchievement(deps.sql, id))),
    findHeldCredentials(deps.sql, valid.map((b) => ({ achievementId: b.achievementId, email: normaliseEmail(b.recipient.email) })), deps.now)
  ])
  const byId = new Map(achievements.flatMap((a) => a === undefined ? [] : [[a.id, a] as const]))
  const holding = new Map(held.map((h) => [`${h.achievementId} ${h.email}`, h.id]))
  const firstItem = new Map<string, number>()
  return bodies.map((body, index) => {
    if (Array.isArray(body)) {
      const { lead: _, ...wording } = itemWording(index, csvRows?.[index])
      return { problem: validationProblem(body, `items[${index}]`, wording).detail }
    }
    const key = `${body.achievementId} ${normaliseEmail(body.recipient.email)}`
    const judged = judgeIssueRequest(body, byId.get(body.achievementId), holding.get(key), deps)
    if (judged instanceof AppError) return { ...(byId.has(body.achievementId) ? { achievementName: byId.get(body.achievementId)?.name } : {}), problem: judged.message }
    const period = { achievementName: judged.achievement.name, validFrom: judged.period.validFrom, ...(judged.period.validUntil !== undefined ? { validUntil: judged.period.validUntil } : {}) }
    const first = firstItem.get(key)
    if (first !== undefined) return { ...period, problem: `The same holder as ${csvRows?.[first] !== undefined ? `row ${csvRows[first].row}` : `item ${first + 1}`}: only the first for a holder and achievement is issued.` }
    firstItem.set(key, index)
    return period
  })
}
