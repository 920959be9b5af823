import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import type { LookupAddress } from 'node:dns'
import os from 'node:os'
import path from 'node:path'
import Fastify from 'fastify'
import type { Test } from 'tap'
import type { OutboundForTests } from '../../src/infrastructure/outbound/outbound.js'

/**
 * One https server on 127.0.0.1 standing in for public hosts whose URLs are
 * inside signed documents (so they cannot be rewritten to localhost): a
 * certificate made here for exactly those names, and the hook that sends the
 * app's outbound client to it (buildApp's outboundForTests; the app must also
 * have OUTBOUND_ALLOW_LOOPBACK=true). Every other name is unresolvable: no
 * test reaches the real network through it.
 */
export interface StandInHosts {
  outboundForTests: OutboundForTests
  /** Serves `document` as JSON at this https URL (its host must be one of the stand-ins). */
  serve: (url: string, document: unknown) => void
  /** URLs asked for, in order. */
  requested: string[]
}

export async function standInHosts (t: Test, hosts: string[]): Promise<StandInHosts> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-stand-in-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  // node:crypto makes keys but not certificates; the openssl CLI makes both.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-subj', '/CN=Tessera test stand-in',
    '-addext', `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`], { stdio: 'ignore' })
  const [key, cert] = await Promise.all([readFile(path.join(dir, 'key.pem'), 'utf8'), readFile(path.join(dir, 'cert.pem'), 'utf8')])
  const documents = new Map<string, unknown>()
  const requested: string[] = []
  const server = Fastify({ https: { key, cert } })
  server.get('/*', async (request, reply) => {
    const url = `https://${request.hostname}${request.url}`
    requested.push(url)
    if (!documents.has(url)) return await reply.code(404).send({ error: 'not served here' })
    return await reply.type('application/json').send(JSON.stringify(documents.get(url)))
  })
  await server.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await server.close() })
  const address = server.server.address()
  if (address === null || typeof address === 'string') throw new Error('stand-in server has no port')
  const names = new Set(hosts)
  const resolveName = (async (host: string) => {
    if (!names.has(host)) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
    return [{ address: '127.0.0.1', family: 4 }] satisfies LookupAddress[]
  }) as unknown as OutboundForTests['resolveName']
  return {
    outboundForTests: { resolveName, ca: cert, portFor: (host) => names.has(host) ? address.port : undefined },
    serve: (url, document) => {
      if (!names.has(new URL(url).hostname)) throw new Error(`${url} is not on a stand-in host`)
      documents.set(url, document)
    },
    requested
  }
}
