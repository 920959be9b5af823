import FindMyWay, { type HTTPMethod } from 'find-my-way'
import type { FastifyInstance } from 'fastify'

/**
 * Which methods an address answers, so that a request whose path exists
 * under another method gets 405 with an Allow header (RFC 9110 section
 * 15.5.6) rather than 404. Fastify's router answers "no route" for both; this
 * keeps a second find-my-way router (the library Fastify routes with, at the
 * version it uses, with the same defaults: app.ts sets no router options) of
 * every route as registered, asked only when Fastify found nothing.
 */
export class MethodIndex {
  private readonly router = FindMyWay()
  private readonly methods = new Set<HTTPMethod>()

  add (methods: string | readonly string[], url: string): void {
    // A catch-all (the CORS preflight route, hardening.ts) is not what an address answers.
    if (url === '*' || url === '/*') return
    for (const method of ([] as string[]).concat(methods) as HTTPMethod[]) {
      if (this.router.hasRoute(method, url)) continue
      this.router.on(method, url, () => {})
      this.methods.add(method)
    }
  }

  /** The methods the request's path answers, sorted (HEAD wherever GET is, as Fastify exposes it); empty if none. */
  allowed (url: string): string[] {
    const found = new Set<string>()
    for (const method of this.methods) {
      if (this.router.find(method, url) === null) continue
      found.add(method)
      if (method === 'GET') found.add('HEAD')
    }
    return [...found].sort()
  }
}

/** Indexes every route registered after this call (call it before any route). */
export function indexRouteMethods (app: FastifyInstance): MethodIndex {
  const index = new MethodIndex()
  app.addHook('onRoute', (route) => { index.add(route.method, route.url) })
  return index
}
