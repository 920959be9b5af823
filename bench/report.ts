/**
 * The bench's printed tables (markdown): one per run and, over several runs, the medians,
 * each ratio taken against the library rate measured in the same run before its median.
 */
import type { Memory } from './proc.js'

export interface Row {
  name: string
  /** Per second for req/s and credentials/s; seconds for a drain. */
  rate: number
  unit: 'req/s' | 'credentials/s' | 's'
  p50?: number
  p99?: number
  errors: number
  /** CPU per request (or per credential, per email) in microseconds. */
  serviceUs: number
  postgresUs: number
  generatorUs?: number
  /** The load generator's CPU over the scenario, in cores (1 = one core busy throughout). */
  generatorCores?: number
  /** Largest VmRSS among the service's processes during the scenario. */
  rssMiB: number
  ratioTo?: 'verify' | 'issue'
  seconds?: number
  batchSeconds?: number
}

export interface Compared extends Row {
  /** WEB_CONCURRENCY given. */
  processes: number
  /** Processes in the service's tree (a cluster's primary included). */
  ran: number
}

export interface RunResult {
  rows: Row[]
  compared: Compared[]
  /** Each service process's peak resident set (VmHWM) in the main scenarios. */
  peaks: Memory[]
  /** Processes in the service's tree in the main scenarios. */
  processes: number
  library: { verify: number, issue: number } | undefined
  notes: string[]
}

function median (values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] ?? Number.NaN : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

const fixed = (value: number | undefined, digits = 0): string => value === undefined || !Number.isFinite(value) ? '' : value.toFixed(digits)

function ratioOf (row: Row, library: RunResult['library']): number | undefined {
  if (library === undefined) return undefined
  if (row.unit === 's') return row.batchSeconds === undefined ? undefined : row.rate / row.batchSeconds
  if (row.ratioTo === 'verify') return row.rate / library.verify
  if (row.ratioTo === 'issue') return row.rate / library.issue
  return undefined
}

/** The same row across runs, each number its median (the ratio: median of the per-run ratios). */
function medianRow<T extends Row> (rows: T[], ratios: Array<number | undefined>): T & { ratio: number | undefined } {
  const first = rows[0] as T
  const m = (key: keyof Row): number | undefined => {
    const values = rows.map((r) => r[key]).filter((v): v is number => typeof v === 'number')
    return values.length === 0 ? undefined : median(values)
  }
  const known = ratios.filter((r): r is number => r !== undefined)
  return {
    ...first,
    rate: m('rate') ?? Number.NaN,
    p50: m('p50'),
    p99: m('p99'),
    errors: m('errors') ?? 0,
    serviceUs: m('serviceUs') ?? Number.NaN,
    postgresUs: m('postgresUs') ?? Number.NaN,
    generatorUs: m('generatorUs'),
    generatorCores: m('generatorCores'),
    rssMiB: m('rssMiB') ?? Number.NaN,
    seconds: m('seconds'),
    batchSeconds: m('batchSeconds'),
    ratio: known.length === 0 ? undefined : median(known)
  }
}

function rateCell (row: Row): string {
  if (row.unit === 'req/s') return fixed(row.rate)
  if (row.unit === 'credentials/s') return `${fixed(row.rate)} credentials/s (${fixed(row.seconds, 1)} s)`
  return `${fixed(row.rate, 1)} s (the batch: ${fixed(row.batchSeconds, 1)} s)`
}

function ratioCell (row: Row, ratio: number | undefined): string {
  if (ratio === undefined) return ''
  if (row.unit === 's') return `${ratio.toFixed(2)}x the batch's time`
  return `${ratio.toFixed(2)}x lib ${row.ratioTo ?? ''}`
}

const generatorCell = (row: Row): string => row.generatorUs === undefined ? '' : `${fixed(row.generatorUs)} (${fixed(row.generatorCores, 2)} cores)`

export function printReport (options: { results: RunResult[], database: string, header: string, medians?: boolean }): void {
  const { results } = options
  const first = results[0]
  if (first === undefined) return
  const lines: string[] = ['', options.header, '']
  const processes = process.env.BENCH_PROCESSES === undefined || process.env.BENCH_PROCESSES === ''
    ? 'WEB_CONCURRENCY unset: the service\'s default'
    : `WEB_CONCURRENCY=${process.env.BENCH_PROCESSES}`
  if (first.rows.length > 0) {
    lines.push(`Service: ${results.map((r) => r.processes).join(', ')} process(es) in its tree, primary included (${processes}). Database: ${options.database}.`, '')
    lines.push('CPU columns: microseconds of CPU (user + system, from /proc) per request, per credential for the batch, per email for the drain; the service\'s summed over its whole process tree (threads included).', '')
    lines.push('| scenario | rate | p50 ms | p99 ms | errors | service CPU µs | PostgreSQL CPU µs | generator CPU µs (cores) | peak RSS MiB | ratio |')
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
    for (const i of first.rows.keys()) {
      const same = results.map((r) => r.rows[i]).filter((r): r is Row => r !== undefined)
      const m = medianRow(same, results.map((r, k) => same[k] === undefined ? undefined : ratioOf(same[k], r.library)))
      lines.push(`| ${m.name} | ${rateCell(m)} | ${fixed(m.p50)} | ${fixed(m.p99)} | ${fixed(m.errors)} | ${fixed(m.serviceUs)} | ${fixed(m.postgresUs)} | ${generatorCell(m)} | ${fixed(m.rssMiB)} | ${ratioCell(m, m.ratio)} |`)
    }
    const lib = (key: 'verify' | 'issue'): string => fixed(median(results.map((r) => r.library?.[key] ?? Number.NaN)))
    lines.push(`| library: vc.verifyCredential, one thread, own process, before the service | ${lib('verify')}/s | | | | | | | | 1x |`)
    lines.push(`| library: vc.issue, one thread, own process, before the service | ${lib('issue')}/s | | | | | | | | 1x |`)
    lines.push('')
    for (const [k, r] of results.entries()) {
      const peaks = r.peaks.map((p) => `${p.comm} ${p.pid}: ${p.peakMiB.toFixed(0)}`).join(', ')
      lines.push(`Peak RSS per service process (VmHWM, MiB)${results.length > 1 ? `, run ${k + 1}` : ''}: ${peaks}; largest ${fixed(Math.max(...r.peaks.map((p) => p.peakMiB)))} MiB.`)
    }
  }
  if (first.compared.length > 0) {
    lines.push('', `Processes compared (the same database and credential; ${options.database}):`, '')
    lines.push('| scenario | WEB_CONCURRENCY (processes) | req/s | p99 ms | errors | service CPU µs | PostgreSQL CPU µs | generator CPU µs (cores) | peak RSS MiB | vs the first |')
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
    for (const [i, row] of first.compared.entries()) {
      const same = results.map((r) => r.compared[i]).filter((r): r is Compared => r !== undefined)
      // Each run's ratio to the first process count's figure for the same scenario in that run.
      const ratios = results.map((r) => {
        const own = r.compared[i]
        const baseline = r.compared.find((c) => c.name === row.name)
        return own === undefined || baseline === undefined ? undefined : own.rate / baseline.rate
      })
      const m = medianRow(same, ratios)
      lines.push(`| ${m.name} | ${row.processes} (${same.map((s) => s.ran).join(', ')}) | ${fixed(m.rate)} | ${fixed(m.p99)} | ${fixed(m.errors)} | ${fixed(m.serviceUs)} | ${fixed(m.postgresUs)} | ${generatorCell(m)} | ${fixed(m.rssMiB)} | ${m.ratio === undefined ? '' : `${m.ratio.toFixed(2)}x`} |`)
    }
  }
  const notes = results.flatMap((r) => r.notes)
  if (notes.length > 0) lines.push('', ...notes.map((n) => `Note: ${n}`))
  console.log(lines.join('\n'))
}
