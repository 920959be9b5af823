import { parse } from 'csv-parse/sync'
import { AppError } from '../../kernel/errors.js'
import type { DeclaredActivity } from './record-activity.js'

/** A CE provider's report, as staff import it: one activity per row. */
export const ACTIVITY_CSV_COLUMNS = ['credentialId', 'title', 'provider', 'providerId', 'completedOn', 'points', 'category'] as const
const REQUIRED = ['credentialId', 'title', 'provider', 'completedOn', 'points', 'category'] as const
export const MAX_ACTIVITY_ROWS = 2000

/**
 * Reads the CSV into items; a row whose values are not even of the right
 * kind is named by its spreadsheet row number (the header is row 1), the
 * rest is checked by recordActivities like any other activity.
 */
export function activitiesFromCsv (text: string): Array<{ credentialId: string, activity: DeclaredActivity }> {
  let records: string[][]
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false, max_record_size: 64 * 1024 }) as string[][]
  } catch (error) {
    throw new AppError('validation_failed', `The CSV cannot be read: ${(error as Error).message}`)
  }
  const [header, ...rows] = records
  if (header === undefined) throw new AppError('validation_failed', `The CSV is empty; the first row must name the columns (${REQUIRED.join(',')}).`)
  const unknown = header.filter((name) => !(ACTIVITY_CSV_COLUMNS as readonly string[]).includes(name))
  if (unknown.length > 0) throw new AppError('validation_failed', `The CSV header names unknown columns: ${unknown.map((c) => `"${c}"`).join(', ')}. Columns: ${ACTIVITY_CSV_COLUMNS.join(', ')}.`)
  const missing = REQUIRED.filter((name) => !header.includes(name))
  if (missing.length > 0) throw new AppError('validation_failed', `The CSV header lacks the columns ${missing.map((c) => `"${c}"`).join(', ')}.`)
  if (rows.length === 0) throw new AppError('validation_failed', 'The CSV has a header but no rows.')
  if (rows.length > MAX_ACTIVITY_ROWS) throw new AppError('validation_failed', `An import holds at most ${MAX_ACTIVITY_ROWS} activities; the CSV has ${rows.length} rows.`)
  const problems: Array<{ row: number, message: string }> = []
  const items = rows.map((values, index) => {
    const cell = (name: string): string => values[header.indexOf(name)] ?? ''
    const points = Number(cell('points'))
    const category = cell('category')
    if (cell('points') === '' || Number.isNaN(points)) problems.push({ row: index + 2, message: `Row ${index + 2}: "points" must be a number; "${cell('points')}" given.` })
    if (category !== 'approved' && category !== 'other') problems.push({ row: index + 2, message: `Row ${index + 2}: "category" must be approved or other; "${category}" given.` })
    const providerId = cell('providerId')
    return {
      credentialId: cell('credentialId'),
      activity: { title: cell('title'), provider: cell('provider'), ...(providerId === '' ? {} : { providerId }), completedOn: cell('completedOn'), points, category: category as DeclaredActivity['category'] }
    }
  })
  if (problems.length > 0) throw new AppError('activity_refused', `${problems.length} row${problems.length === 1 ? '' : 's'} of the CSV cannot be read; nothing was recorded.`, { items: problems })
  return items
}
