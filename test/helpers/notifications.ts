import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/** The notification workers inline, polling and retrying fast enough for a test. */
export const FAST_JOBS = { WORKER: 'inline', JOB_POLL_SECONDS: '0.5', JOB_RETRY_DELAY_SECONDS: '1', JOB_MAINTENANCE_SECONDS: '1' }

/**
 * A real SMTP server on loopback that keeps every message it is given, parsed.
 * With `hold`, it answers no message's DATA until `release()`: a sender that
 * waited for the mail server would still be waiting (`accepted` counts the
 * messages answered).
 */
export async function startSmtpServer (options: { hold?: boolean } = {}): Promise<{ url: string, messages: Array<ParsedMail & { envelopeTo: string[] }>, readonly accepted: number, release: () => void, close: () => Promise<void> }> {
  const messages: Array<ParsedMail & { envelopeTo: string[] }> = []
  let holding = options.hold === true
  const held: Array<() => void> = []
  let accepted = 0
  const accept = (callback: (error?: Error | null) => void) => (): void => { accepted++; callback() }
  const release = (): void => {
    holding = false
    for (const answer of held.splice(0)) answer()
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData (stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        messages.push(Object.assign(parsed, { envelopeTo: session.envelope.rcptTo.map((r) => r.address) }))
        if (holding) held.push(accept(callback))
        else accept(callback)()
      }, callback)
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    get accepted () { return accepted },
    release,
    close: async () => {
      release()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
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
