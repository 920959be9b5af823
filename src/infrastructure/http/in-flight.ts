import type { FastifyInstance, RouteOptions } from 'fastify'
import { settledWithin } from '../../kernel/settled.js'

/**
 * Route handlers still running, so that closing the app waits for them before
 * it closes what they use (the Data Integrity threads, the job queue).
 *
 * Fastify's close waits for the server's connections, not for handlers: a
 * client that hangs up mid-request (a load generator stopping, a browser tab
 * closed during a batch) leaves its handler running with no connection to wait
 * for. Without this, the app closed its signing threads under such a handler,
 * whose next task was refused ("queue is being terminated"): a 500 in the log
 * and a batch cut short at shutdown. Work a request started is finished, as it
 * would have been had the client stayed.
 */
export class InFlightHandlers {
  readonly #running = new Set<Promise<unknown>>()

  /**
   * Wraps every async route handler registered after this call. Handlers that
   * are not async are left alone: one may answer later through `reply`, which
   * a wrapper returning a promise would end early.
   */
  install (app: FastifyInstance): void {
    app.addHook('onRoute', (route: RouteOptions) => {
      const handler = route.handler
      if (handler.constructor.name !== 'AsyncFunction') return
      const running = this.#running
      route.handler = async function (this: FastifyInstance, request, reply) {
        const promise = (handler as (this: FastifyInstance, ...args: Parameters<typeof handler>) => Promise<unknown>).call(this, request, reply)
        const tracked = promise.then(() => {}, () => {}).finally(() => { running.delete(tracked) })
        running.add(tracked)
        return await promise
      }
    })
  }

  get size (): number { return this.#running.size }

  /** Resolves when no handler runs, or after `boundMs` (a stuck handler must not hold a shutdown): whether they all ended. */
  async settled (boundMs: number): Promise<boolean> {
    return await settledWithin(this.#running, boundMs)
  }
}
