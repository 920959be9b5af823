import { context, trace, SpanKind, type Context } from '@opentelemetry/api'
import { ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME, ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions'
import { failSpan, tracer } from './tracing.js'

/**
 * A span per database statement for a postgres.js pool (postgres.js has no
 * OpenTelemetry instrumentation). The pool is wrapped in a Proxy: every query
 * it (or a transaction, savepoint or reserved connection it hands out) makes
 * is watched from the moment it is sent (a query is lazy, and a fragment
 * nested in another is never sent) until it resolves or fails. The span holds
 * the statement as sent, with $1, $2 placeholders: parameter values never
 * leave the process.
 *
 * Only statements run inside a traced request or job get a span: the job
 * queue's polling and the change feed would otherwise fill the trace store
 * with one-statement traces. Used only when tracing is on; otherwise the pool
 * is not wrapped at all.
 */

interface WatchedQuery {
  handle: () => Promise<void>
  resolve: (value: unknown) => unknown
  reject: (error: unknown) => unknown
  strings: TemplateStringsArray | string
  statement?: { string?: string } | null
}

const isQuery = (value: unknown): value is WatchedQuery =>
  typeof value === 'object' && value !== null && typeof (value as WatchedQuery).handle === 'function' && typeof (value as WatchedQuery).resolve === 'function' && 'strings' in value

/** The first keyword (SELECT, INSERT, WITH…): the span's name, as the database semantic conventions ask. */
function operationOf (text: string): string {
  return /^\s*([a-zA-Z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL'
}

function watch (query: WatchedQuery): void {
  const handle = query.handle.bind(query)
  query.handle = async () => {
    const parent: Context = context.active()
    // Outside a request or job (polling, listeners): no span.
    if (trace.getSpan(parent)?.isRecording() !== true) return await handle()
    const draft = typeof query.strings === 'string' ? query.strings : query.strings.join('$?')
    const span = tracer().startSpan(operationOf(draft), { kind: SpanKind.CLIENT, attributes: { [ATTR_DB_SYSTEM_NAME]: 'postgresql', [ATTR_DB_OPERATION_NAME]: operationOf(draft) } }, parent)
    const resolve = query.resolve
    const reject = query.reject
    const text = (): string => query.statement?.string ?? draft
    query.resolve = (value) => {
      span.setAttribute(ATTR_DB_QUERY_TEXT, text())
      span.end()
      return resolve(value)
    }
    query.reject = (error) => {
      span.setAttribute(ATTR_DB_QUERY_TEXT, text())
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string') span.setAttribute(ATTR_ERROR_TYPE, code)
      failSpan(span, error)
      span.end()
      return reject(error)
    }
    await handle()
  }
}

type Fn = (...args: unknown[]) => unknown

/** The same pool (or transaction), its statements traced: see above. */
export function traceStatements<T extends object> (sql: T): T {
  return new Proxy(sql, {
    apply (target, thisArg, args) {
      const result = Reflect.apply(target as Fn, thisArg, args)
      if (isQuery(result)) watch(result)
      return result
    },
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function') return value
      switch (property) {
        case 'unsafe':
        case 'file':
          return (...args: unknown[]) => {
            const result = (value as Fn)(...args)
            if (isQuery(result)) watch(result)
            return result
          }
        case 'begin':
        case 'savepoint':
          // The callback receives a transaction (or savepoint) whose statements are traced too, and
          // runs in the caller's context (a busy pool may hand the connection over from another's).
          return async (...args: unknown[]) => {
            const caller = context.active()
            return await (value as Fn)(...args.map((arg) => typeof arg === 'function' ? async (tx: object) => await context.with(caller, async () => await (arg as Fn)(traceStatements(tx))) : arg))
          }
        case 'reserve':
          return async (...args: unknown[]) => traceStatements(await (value as Fn)(...args) as object)
        default:
          return value
      }
    }
  })
}
