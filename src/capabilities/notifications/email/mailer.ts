import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import nodemailer from 'nodemailer'
import { DEFAULT_SMTP_TIMEOUT_SECONDS } from '../../../kernel/config.js'

export interface OutgoingEmail {
  to: string
  subject: string
  text: string
  html: string
  /** Stable across retries (derived from the event id), so a resend is recognisably the same message. */
  messageId: string
  headers?: Record<string, string>
}

export interface Mailer {
  /** Where the message went, for the log (never the recipient's address). */
  send: (email: OutgoingEmail) => Promise<{ delivered: 'smtp' | 'file', where: string }>
  close: () => void
}

/**
 * SMTP via nodemailer when SMTP_URL is set. Without it, each message is
 * written as an .eml file under <dataDir>/outbox-mail/, so a development
 * service sends nothing and a developer can open what it would have sent.
 *
 * Every send ends: a stall of `timeoutSeconds` (connecting, the greeting, any
 * reply) fails it, and so does a whole message taking twice that (a server
 * that keeps the line busy without ever answering, or a pooled connection
 * that never calls back). The job is then retried with the same Message-ID.
 */
export function createMailer (options: { smtpUrl: string | undefined, from: string, dataDir: string, timeoutSeconds?: number }): Mailer {
  if (options.smtpUrl !== undefined) {
    const stallMs = (options.timeoutSeconds ?? DEFAULT_SMTP_TIMEOUT_SECONDS) * 1000
    // Pooled: a few SMTP connections reused for every message, instead of a
    // connection (and its TLS handshake) per message, which bounded how fast a
    // batch's emails drained. The URL's own parameters win (?pool=false).
    const transport = nodemailer.createTransport({ url: options.smtpUrl, pool: true, maxConnections: 4, maxMessages: 1000, connectionTimeout: stallMs, greetingTimeout: stallMs, socketTimeout: stallMs }, { from: options.from })
    return {
      send: async (email) => {
        const info = await withinDeadline(transport.sendMail({ from: options.from, ...email }), 2 * stallMs)
        return { delivered: 'smtp', where: String(info.response ?? 'accepted') }
      },
      close: () => { transport.close() }
    }
  }
  const folder = path.join(options.dataDir, 'outbox-mail')
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  return {
    send: async (email) => {
      const info = await stream.sendMail({ from: options.from, ...email })
      await mkdir(folder, { recursive: true })
      const file = path.join(folder, `${new Date().toISOString().replace(/[:.]/g, '-')}-${email.messageId.replace(/[^\w.-]/g, '')}.eml`)
      await writeFile(file, info.message as Buffer)
      return { delivered: 'file', where: file }
    },
    close: () => {}
  }
}

/** `sending`, or an error once `ms` have passed without it settling. */
async function withinDeadline<T> (sending: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`the mail server had not taken the message after ${ms / 1000} s; it will be tried again`)) }, ms)
  })
  try {
    return await Promise.race([sending, deadline])
  } finally {
    clearTimeout(timer)
  }
}
