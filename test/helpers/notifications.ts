import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/** The notification workers inline, polling and retrying fast enough for a test. */
export const FAST_JOBS = { WORKER: 'inline', JOB_POLL_SECONDS: '0.5', JOB_RETRY_DELAY_SECONDS: '1', JOB_MAINTENANCE_SECONDS: '1' }

/** A real SMTP server on loopback that keeps every message it is given, parsed (and accepts it after `delayMs`). */
export async function startSmtpServer (options: { delayMs?: number } = {}): Promise<{ url: string, messages: Array<ParsedMail & { envelopeTo: string[] }>, close: () => Promise<void> }> {
  const messages: Array<ParsedMail & { envelopeTo: string[] }> = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData (stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        messages.push(Object.assign(parsed, { envelopeTo: session.envelope.rcptTo.map((r) => r.address) }))
        // A slow mail server: the portal test uses it to show that answers do not wait for mail.
        setTimeout(callback, options.delayMs ?? 0)
      }, callback)
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo
  return { url: `smtp://127.0.0.1:${port}`, messages, close: async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) } }
}

export interface ReceivedHook { headers: IncomingMessage['headers'], body: string }

/** A real HTTP receiver on loopback: answers with `status()` after `delayMs`, keeps every request. */
export async function startReceiver (options: { status?: () => number, delayMs?: number } = {}): Promise<{ url: string, received: ReceivedHook[], server: Server, close: () => Promise<void> }> {
  const received: ReceivedHook[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      setTimeout(() => {
        response.writeHead(options.status?.() ?? 200, { 'content-type': 'text/plain' }).end('ok')
      }, options.delayMs ?? 0)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    server,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

export async function waitFor<T> (what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
