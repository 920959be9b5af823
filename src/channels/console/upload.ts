import multipart, { type MultipartFile } from '@fastify/multipart'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { parse } from 'csv-parse/sync'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listAchievements, type AchievementRow } from '../../capabilities/achievements/store.js'
import { issueBatch, itemsFromCsv, MAX_BATCH_ITEMS, previewBatch, type CsvRow } from '../../capabilities/credentials/issue/batch.js'
import type { IssuedCredential } from '../../capabilities/credentials/issue/issue-credential.js'
import { staffOf } from '../../capabilities/staff-access/bearer-auth.js'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { htmlPage } from '../../infrastructure/http/common-schemas.js'
import { perMinute } from '../../infrastructure/http/hardening.js'
import { longDate } from '../../infrastructure/web/dates.js'
import { AppError } from '../../kernel/errors.js'
import { sendConsoleMessage, sendConsolePage } from './page.js'

/** The most a CSV may weigh, as POST /api/v1/credentials/batch allows. */
const CSV_MAX_BYTES = 2 * 1024 * 1024
const FROM_FILE = ''

const text = (max: number) => ({ type: 'string', maxLength: max } as const)
const uploadBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    _csrf: text(200),
    achievementId: { ...text(40), description: 'The achievement of every row (empty: the file has an achievementId column)' },
    csv: { ...text(CSV_MAX_BYTES), description: 'The CSV pasted (used when no file is chosen)' },
    file: { description: 'The CSV file (multipart)' }
  }
} as const
const issueBody = {
  type: 'object',
  additionalProperties: false,
  required: ['csv'],
  properties: { _csrf: text(200), csv: { ...text(CSV_MAX_BYTES), minLength: 1, description: 'The CSV as previewed (with its achievementId column)' }, notify: { type: 'string', enum: ['yes'], description: 'Email each holder' } }
} as const
const pages = (description: string) => ({ 200: htmlPage(description), 400: htmlPage('The form could not be read'), 403: htmlPage('The role lacks credentials:issue, or the form expired'), 422: htmlPage('The form again, saying why the CSV cannot be read') })

/** A file part as the multipart hook leaves it in the body. */
interface Upload { bytes: Buffer, filename: string, truncated: boolean }
const isUpload = (value: unknown): value is Upload => typeof value === 'object' && value !== null && Buffer.isBuffer((value as Upload).bytes)

/**
 * The CSV with an achievementId column for the achievement staff chose: each
 * record's own text (csv-parse's raw) with the cell put first, so quoted line
 * breaks and blank lines stay where they were and rows keep their numbers.
 */
export function withAchievementColumn (csv: string, achievementId: string): string {
  let records: Array<{ record: string[], raw: string }>
  try {
    records = parse(csv.replace(/^\uFEFF/, ''), { skip_empty_lines: true, relax_column_count: true, raw: true }) as unknown as typeof records
  } catch {
    return csv // itemsFromCsv says what is wrong with it
  }
  if (records[0]?.record.some((name) => name.trim() === 'achievementId') === true) {
    throw new AppError('validation_failed', 'The file has an achievementId column: choose "Named in the file" as the achievement, or remove the column.')
  }
  return records.map((r, i) => r.raw.replace(/^\s*/, (space) => `${space}${i === 0 ? 'achievementId' : achievementId},`)).join('')
}

interface RowCheck { row: number, name: string, email: string, achievement: string, validFrom?: string, validUntil?: string, problems: string[] }

/**
 * The staff console's CSV upload: a form (a file, or CSV pasted, with the
 * API's columns; the achievement chosen once or named per row), a preview of
 * every row with its problems found by the same checks issuing makes
 * (schema, unknown or archived achievement, period, a holder twice in the
 * file or already holding a current badge), issuing nothing; then the
 * confirmed CSV issued through issueBatch, the path of POST
 * /api/v1/credentials/batch, with a result per row. The preview hands the
 * CSV back in a hidden field rather than a stored draft: nothing to keep or
 * clean up, and the issue step checks every row again anyway.
 */
export async function uploadRoutes (fastify: FastifyInstance): Promise<void> {
  // Parsed before preValidation's CSRF check (instance hooks run before route hooks); the file is kept in memory.
  await fastify.register(multipart, {
    attachFieldsToBody: 'keyValues',
    throwFileSizeLimit: false,
    limits: { fileSize: CSV_MAX_BYTES, files: 1, fields: 6, parts: 8, fieldSize: CSV_MAX_BYTES },
    onFile: async (part: MultipartFile) => {
      const bytes = await part.toBuffer()
      Object.assign(part, { value: { bytes, filename: part.filename, truncated: part.file.truncated } satisfies Upload })
    }
  })
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const posts = { preValidation: app.csrfProtection }
  const limited = perMinute(app.config.rateLimits.formsPerMinute)

  // The console's handler answers pages only for urlencoded posts; these forms are multipart.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code?.startsWith('FST_CSRF_') === true) {
      return sendConsoleMessage(request, reply, 403, { heading: 'This form has expired', text: 'Forms work only from the page that showed them. Go back, reload the page and send it again.', alert: true })
    }
    if (error instanceof AppError && error.statusCode < 500) {
      return sendConsoleMessage(request, reply, error.statusCode, { heading: error.statusCode === 403 ? 'Not allowed' : 'That did not work', text: error.message, alert: true, next: { href: '/console/upload', text: 'Back to the CSV upload' } })
    }
    if (error.statusCode === 429) return sendConsoleMessage(request, reply.header('Retry-After', '60'), 429, { heading: 'Too many attempts', text: 'Please wait a minute before trying again.', alert: true })
    if (error.validation !== undefined || /^FST_(PARTS|FILES|FIELDS)_LIMIT|^FST_PROTO_VIOLATION|^FST_INVALID_MULTIPART/.test(error.code ?? '')) {
      return sendConsoleMessage(request, reply, 400, { heading: 'The form could not be read', text: `${error.message}. Go back and send the form again.`, alert: true, next: { href: '/console/upload', text: 'Back to the CSV upload' } })
    }
    throw error
  })

  const activeAchievements = async (): Promise<AchievementRow[]> => await listAchievements(app.sql, { limit: 500, archived: false })
  const form = async (request: FastifyRequest, reply: FastifyReply, values: { achievementId?: string, csv?: string, error?: string } = {}): Promise<FastifyReply> =>
    sendConsolePage(request, reply, 'upload', {
      title: 'CSV upload',
      achievements: (await activeAchievements()).map((a) => ({ id: a.id, name: a.name })),
      maxRows: MAX_BATCH_ITEMS,
      values: { achievementId: values.achievementId ?? FROM_FILE, csv: values.csv ?? '' },
      error: values.error
    }, values.error === undefined ? 200 : 422)

  app.get('/console/upload', {
    config: { scope: 'credentials:issue' },
    schema: { summary: 'The CSV upload form: a file or pasted CSV, and the achievement', tags: [TAG.console], response: pages('The form') }
  }, async (request, reply) => await form(request, reply))

  app.post('/console/upload/preview', {
    ...posts,
    bodyLimit: CSV_MAX_BYTES + 64 * 1024,
    config: { scope: 'credentials:issue', ...limited },
    schema: { summary: 'Preview a CSV: every row with its problems; nothing is issued', tags: [TAG.console], body: uploadBody, response: pages('The preview, with the confirmation form') }
  }, async (request, reply) => {
    const body = request.body
    const achievementId = body.achievementId ?? FROM_FILE
    const file = isUpload(body.file) && body.file.bytes.length > 0 ? body.file : undefined
    if (file?.truncated === true) return await form(request, reply, { achievementId, error: `The file is larger than ${CSV_MAX_BYTES / 1048576} MiB.` })
    const pasted = body.csv ?? ''
    const original = file === undefined ? pasted : file.bytes.toString('utf8')
    if (original.trim() === '') return await form(request, reply, { achievementId, csv: pasted, error: 'Choose a CSV file or paste the rows.' })
    let csv: string
    let parsed: { items: unknown[], rows: CsvRow[] }
    try {
      csv = achievementId === FROM_FILE ? original : withAchievementColumn(original, achievementId)
      parsed = itemsFromCsv(csv)
    } catch (error) {
      if (error instanceof AppError) return await form(request, reply, { achievementId, csv: pasted, error: error.message })
      throw error
    }
    const checks = await checkRows(parsed.items, parsed.rows)
    const ready = checks.filter((c) => c.problems.length === 0).length
    return sendConsolePage(request, reply, 'upload-preview', {
      title: 'CSV preview',
      source: file === undefined ? 'the pasted rows' : `the file ${file.filename}`,
      rows: checks,
      ready,
      refused: checks.length - ready,
      csv
    })
  })

  /** Each row as issuing would judge it now, without issuing (previewBatch: the checks of every issue), for the page. */
  async function checkRows (items: unknown[], rows: CsvRow[]): Promise<RowCheck[]> {
    const previews = await previewBatch({ sql: app.sql, now: app.clock(), urls: app.urls }, items, rows)
    return previews.map((preview, index) => {
      const loose = items[index] as { achievementId?: string, recipient?: { name?: string, email?: string } }
      return {
        row: rows[index]?.row ?? index + 2,
        name: loose.recipient?.name ?? '',
        email: loose.recipient?.email ?? '',
        achievement: preview.achievementName ?? loose.achievementId ?? '',
        ...(preview.validFrom !== undefined ? { validFrom: longDate(preview.validFrom), validUntil: preview.validUntil === undefined ? 'no end date' : longDate(preview.validUntil) } : {}),
        problems: preview.problem === undefined ? [] : [preview.problem]
      }
    })
  }

  app.post('/console/upload/issue', {
    ...posts,
    bodyLimit: CSV_MAX_BYTES + 64 * 1024,
    config: { scope: 'credentials:issue', ...limited },
    schema: { summary: 'Issue the previewed CSV\'s valid rows (as POST /api/v1/credentials/batch); a result per row', tags: [TAG.console], body: issueBody, response: pages('Every row\'s result: issued with its link, or why not') }
  }, async (request, reply) => {
    const { items, rows } = itemsFromCsv(request.body.csv)
    const notify = request.body.notify === 'yes'
    const deps = { sql: app.sql, keyRing: app.keyRing, urls: app.urls, now: app.clock(), actor: staffOf(request).actor, statusLists: app.statusListPolicy, outbox: app.outbox, requestId: request.id, dataIntegrity: app.dataIntegrity, changes: app.changes }
    const results = await issueBatch({ ...deps, clock: app.clock, log: request.log, notify }, items, { csvRows: rows })
    const views = results.map((result, index) => {
      const loose = items[index] as { recipient?: { name?: string, email?: string } }
      const base = { row: rows[index]?.row ?? index + 2, name: loose.recipient?.name ?? '', email: loose.recipient?.email ?? '' }
      // A result is the issued credential or the row's problem document (issueBatch).
      if ('jwt' in result) {
        const credential = result as IssuedCredential
        return { ...base, issued: { record: `/console/credentials/${credential.id}`, url: credential.url } }
      }
      return { ...base, refusal: result.detail.replace(/^Row \d+( \(line \d+ of the file\))?: /, '') }
    })
    const issued = views.filter((v) => 'issued' in v).length
    request.log.info({ items: items.length, issued }, 'CSV issued from the console')
    return sendConsolePage(request, reply, 'upload-results', { title: 'CSV issued', rows: views, issued, refused: views.length - issued, notify })
  })
}
