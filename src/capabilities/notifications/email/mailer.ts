import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import nodemailer from 'nodemailer'

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
 */
export function createMailer (options: { smtpUrl: string | undefined, from: string, dataDir: string }): Mailer {
  if (options.smtpUrl !== undefined) {
    // Pooled: a few SMTP connections reused for every message, instead of a
    // connection (and its TLS handshake) per message, which bounded how fast a
    // batch's emails drained. The URL's own parameters win (?pool=false).
    const transport = nodemailer.createTransport({ url: options.smtpUrl, pool: true, maxConnections: 4, maxMessages: 1000 }, { from: options.from })
    return {
      send: async (email) => {
        const info = await transport.sendMail({ from: options.from, ...email })
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
