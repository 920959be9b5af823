import { context, createContextKey, trace, SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api'
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME, ATTR_URL_SCHEME } from '@opentelemetry/semantic-conventions'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/**
 * Traces with OpenTelemetry, only when an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
 *
 * The code that makes spans (requests, statements, signatures, verification
 * steps, jobs) calls @opentelemetry/api only. Until startTracing registers a
 * tracer provider those calls are the API's no-ops: no span is recorded, no
 * context manager runs, and the SDK and the exporter are never imported. The
 * API's registry is process-wide by design (a library cannot be handed a
 * tracer), so the process that starts tracing (server, worker) owns it and
 * shuts it down.
 */

/** Where spans go and what the service is called there. */
export interface TracingSettings {
  /** The OTLP/HTTP traces URL (…/v1/traces); the exporter POSTs JSON to it. */
  tracesUrl: string
  serviceName: string
}

export interface Tracing {
  /** Sends every ended span now (tests; shutdown does it too). */
  flush: () => Promise<void>
  /** Flushes, then unregisters the provider and the context manager. */
  shutdown: () => Promise<void>
}

/** The request id, carried in the context to the statements, jobs and spans a request causes. */
const REQUEST_ID = createContextKey('tessera.request_id')
export const ATTR_REQUEST_ID = 'tessera.request_id'

/** The tracer, looked up each time: after a shutdown the API must not keep the old provider's tracer. */
export function tracer (): Tracer {
  return trace.getTracer('tessera')
}

/**
 * Registers the SDK: a batching OTLP/HTTP (JSON) exporter and an
 * AsyncLocalStorage context manager, so that spans started while handling a
 * request or job are its children. Imported here, lazily: a service without
 * an endpoint never loads them.
 */
export async function startTracing (settings: TracingSettings): Promise<Tracing> {
  const [{ TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { AsyncLocalStorageContextManager }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/resources')
  ])
  const contextManager = new AsyncLocalStorageContextManager().enable()
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.tracesUrl }) })]
  })
  if (!context.setGlobalContextManager(contextManager) || !trace.setGlobalTracerProvider(provider)) {
    contextManager.disable()
    await provider.shutdown()
    throw new Error('Tracing is already started in this process.')
  }
  return {
    flush: async () => { await provider.forceFlush() },
    shutdown: async () => {
      await provider.shutdown()
      trace.disable()
      context.disable()
    }
  }
}

/** Whether spans are being recorded (a provider is registered): lets callers skip work that only feeds spans. */
export function tracingActive (): boolean {
  return trace.getSpan(context.active())?.isRecording() === true
}

/**
 * Runs `fn` in a span, a child of the active one; the span records a thrown
 * error and ends when `fn` settles. With tracing off the span is the API's
 * no-op, and `fn` runs as it would have.
 */
export async function inSpan<T> (name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, options: { kind?: SpanKind, links?: Link[], root?: boolean, parent?: Context } = {}): Promise<T> {
  const spanOptions = { attributes, ...(options.kind !== undefined ? { kind: options.kind } : {}), ...(options.links !== undefined ? { links: options.links } : {}), ...(options.root === true ? { root: true } : {}) }
  return await tracer().startActiveSpan(name, spanOptions, options.parent ?? context.active(), async (span) => {
    try {
      return await fn(span)
    } catch (error) {
      failSpan(span, error)
      throw error
    } finally {
      span.end()
    }
  })
}

/** Marks a span failed with the error (its type and message; never a credential or a key). */
export function failSpan (span: Span, error: unknown): void {
  if (!span.isRecording()) return
  if (error instanceof Error) span.recordException(error)
  span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error ? { message: error.message } : {}) })
}

/** The request id of the request (or the job) the active context belongs to, when tracing. */
export function activeRequestId (): string | undefined {
  const value = context.active().getValue(REQUEST_ID)
  return typeof value === 'string' ? value : undefined
}

/** A context carrying a request id (a job's, from the request that added it). */
export function withRequestId (ctx: Context, requestId: string): Context {
  return ctx.setValue(REQUEST_ID, requestId)
}

const requestContexts = new WeakMap<FastifyRequest, { span: Span, ctx: Context }>()

/**
 * A SERVER span per request, named `METHOD route-pattern`: started in
 * onRequest (the route is matched by then), ended in onResponse. The rest of the request runs in its
 * context: from onRequest (bodiless requests go straight on) and again from
 * preValidation, because a body is read in the socket's callbacks, outside it.
 * The route pattern, never the path: a path can hold a token (sign-in, unsubscribe).
 * Installed only when tracing is started: with it off there are no hooks.
 */
export function installRequestTracing (app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url
    const span = tracer().startSpan(`${request.method} ${route ?? 'unmatched'}`, {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: request.method,
        [ATTR_URL_SCHEME]: request.protocol,
        [ATTR_REQUEST_ID]: request.id,
        ...(route !== undefined ? { [ATTR_HTTP_ROUTE]: route } : {})
      }
    }, context.active())
    const ctx = withRequestId(trace.setSpan(context.active(), span), request.id)
    requestContexts.set(request, { span, ctx })
    context.with(ctx, done)
  })
  app.addHook('preValidation', (request, _reply, done) => {
    const traced = requestContexts.get(request)
    if (traced === undefined) { done(); return }
    context.with(traced.ctx, done)
  })
  app.addHook('onResponse', (request, reply, done) => {
    const traced = requestContexts.get(request)
    if (traced !== undefined) {
      traced.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode)
      // A 5xx is the server's failure; a 4xx is the client's, and the span stays unset (HTTP semantic conventions).
      if (reply.statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR })
      traced.span.end()
      requestContexts.delete(request)
    }
    done()
  })
}

/** The key under which a job's data carries its origin (the adding request), only while tracing. */
const JOB_ORIGIN = 'traceOrigin'

interface JobOrigin { requestId?: string, traceId: string, spanId: string }

/**
 * A job's data as it is added: with tracing on, plus where it came from (the
 * request id, and the span that added it, which the job's span links to);
 * with tracing off, the data itself.
 */
export function withJobOrigin<T extends object> (data: T): T {
  const span = trace.getSpan(context.active())
  if (span === undefined || !span.isRecording()) return data
  const { traceId, spanId } = span.spanContext()
  const requestId = activeRequestId()
  const origin: JobOrigin = { ...(requestId !== undefined ? { requestId } : {}), traceId, spanId }
  return { ...data, [JOB_ORIGIN]: origin }
}

/**
 * Handles a job in a CONSUMER span of its own trace, linked to the span that
 * added it, with the adding request's id as an attribute (and in the context,
 * so the jobs this one adds carry it on). The handler gets the data without
 * the origin, whether or not this process traces.
 */
export async function inJobSpan<D extends object> (queue: string, job: { id: string, retryCount: number, data: D }, run: (data: D) => Promise<void>): Promise<void> {
  const { [JOB_ORIGIN]: origin, ...data } = job.data as D & { [JOB_ORIGIN]?: JobOrigin }
  const requestId = typeof origin?.requestId === 'string' ? origin.requestId : undefined
  const links: Link[] = origin !== undefined && typeof origin.traceId === 'string' && typeof origin.spanId === 'string'
    ? [{ context: { traceId: origin.traceId, spanId: origin.spanId, traceFlags: 1, isRemote: true } }]
    : []
  const parent = requestId !== undefined ? withRequestId(context.active(), requestId) : context.active()
  await inSpan(`job ${queue}`, {
    'messaging.system': 'pg-boss',
    'messaging.destination.name': queue,
    'messaging.message.id': job.id,
    'tessera.job.retry_count': job.retryCount,
    ...(requestId !== undefined ? { [ATTR_REQUEST_ID]: requestId } : {})
  }, async () => { await run(data as D) }, { kind: SpanKind.CONSUMER, links, root: true, parent })
}
