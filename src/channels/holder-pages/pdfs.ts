import PDFDocument from 'pdfkit'
import QRCode from 'qrcode'
import { fileURLToPath } from 'node:url'
import type { Palette } from '../../infrastructure/web/images.js'

/**
 * The printable certificate (US Letter, landscape) and wallet card
 * (85.6 × 54 mm, ID-1), drawn with PDFKit from the stored credential. The QR
 * code is drawn as vector squares (it stays sharp at any print size) and
 * leads to the credential URL, where the live status is.
 */

const FONTS_DIR = new URL('../../../assets/fonts/', import.meta.url)
const REGULAR = fileURLToPath(new URL('DejaVuSans.ttf', FONTS_DIR))
const BOLD = fileURLToPath(new URL('DejaVuSans-Bold.ttf', FONTS_DIR))
const MM = 72 / 25.4

export interface PrintableCredential {
  holderName: string
  achievementName: string
  issuerName: string
  awardDate?: string
  validUntil?: string
  credentialUrl: string
  credentialId: string
  /** "Status on 25 November 2026: Valid": printed in words on every copy. */
  statusLine: string
  /** A state to stamp across the page ("EXPIRED", "REVOKED", "REPLACED"); undefined when valid. */
  stamp?: string
  palette: Palette
}

async function toBuffer (doc: PDFKit.PDFDocument): Promise<Buffer> {
  const chunks: Buffer[] = []
  doc.on('data', (chunk: Buffer) => chunks.push(chunk))
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => { resolve(Buffer.concat(chunks)) })
    doc.on('error', reject)
  })
  doc.end()
  return await done
}

function newDocument (size: [number, number], title: string): PDFKit.PDFDocument {
  const doc = new PDFDocument({ size, margin: 0, info: { Title: title, Creator: 'Tessera' } })
  doc.registerFont('regular', REGULAR)
  doc.registerFont('bold', BOLD)
  return doc
}

/** Draws a QR code for `url` with its top-left corner at (x, y), `size` points wide, quiet zone included. */
function drawQr (doc: PDFKit.PDFDocument, url: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(url, { errorCorrectionLevel: 'M' })
  const count = qr.modules.size
  const cell = size / (count + 8)
  doc.rect(x, y, size, size).fill('#ffffff')
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.modules.get(row, col) === 1) doc.rect(x + (col + 4) * cell, y + (row + 4) * cell, cell, cell)
    }
  }
  doc.fill('#000000')
}

function drawStamp (doc: PDFKit.PDFDocument, stamp: string, centreX: number, centreY: number, fontSize: number): void {
  doc.save().rotate(-18, { origin: [centreX, centreY] })
  doc.font('bold').fontSize(fontSize).fillColor('#a4161a').fillOpacity(0.8)
  const width = doc.widthOfString(stamp)
  const height = fontSize * 1.2
  doc.lineWidth(fontSize / 8).strokeColor('#a4161a').strokeOpacity(0.8)
    .rect(centreX - width / 2 - fontSize / 2, centreY - height / 2 - fontSize / 4, width + fontSize, height + fontSize / 2).stroke()
  doc.text(stamp, centreX - width / 2, centreY - height / 2, { lineBreak: false })
  doc.restore()
}

const line = (label: string, value: string | undefined): string => `${label}: ${value ?? '—'}`

export async function certificatePdf (c: PrintableCredential): Promise<Buffer> {
  const [width, height] = [11 * 72, 8.5 * 72]
  const doc = newDocument([width, height], `${c.achievementName}: ${c.holderName}`)
  doc.rect(24, 24, width - 48, height - 48).lineWidth(6).stroke(c.palette.primary)
  doc.rect(36, 36, width - 72, height - 72).lineWidth(1.5).stroke(c.palette.accent)
  const centred = { width: width - 160, align: 'center' as const }
  doc.font('bold').fontSize(20).fillColor(c.palette.primary).text(c.issuerName, 80, 80, centred)
  doc.font('regular').fontSize(14).fillColor('#333333').text('This certifies that', 80, 170, centred)
  doc.font('bold').fontSize(34).fillColor('#111111').text(c.holderName, 80, 200, centred)
  doc.font('regular').fontSize(14).fillColor('#333333').text('has earned', 80, 262, centred)
  doc.font('bold').fontSize(26).fillColor(c.palette.primary).text(c.achievementName, 80, 290, centred)
  doc.font('regular').fontSize(12).fillColor('#333333')
    .text(line('Awarded', c.awardDate), 80, 400, { width: 440 })
    .text(line('Valid until', c.validUntil), 80, 420, { width: 440 })
    .text(line('Credential ID', c.credentialId), 80, 440, { width: 440 })
  doc.font('bold').fontSize(12).fillColor('#111111').text(c.statusLine, 80, 496, { width: 440 })
  doc.font('regular').fontSize(9).fillColor(c.palette.accent).text(c.credentialUrl, 80, 460, { width: 480, link: c.credentialUrl })
  doc.font('regular').fontSize(9).fillColor('#555555').text('Scan or open the link to check its current status.', 80, 476, { width: 440 })
  drawQr(doc, c.credentialUrl, width - 80 - 130, height - 80 - 130, 130)
  if (c.stamp !== undefined) drawStamp(doc, c.stamp, width / 2, height / 2, 64)
  return await toBuffer(doc)
}

export async function walletCardPdf (c: PrintableCredential): Promise<Buffer> {
  const [width, height] = [85.6 * MM, 54 * MM]
  const doc = newDocument([width, height], `${c.achievementName}: ${c.holderName} (wallet card)`)
  doc.rect(0, 0, width, 26).fill(c.palette.primary)
  doc.font('bold').fontSize(8).fillColor('#ffffff').text(c.issuerName, 8, 9, { width: width - 16, lineBreak: false, ellipsis: true })
  doc.font('bold').fontSize(10).fillColor(c.palette.primary).text(c.achievementName, 8, 34, { width: width - 90, height: 26, ellipsis: true })
  doc.font('bold').fontSize(9).fillColor('#111111').text(c.holderName, 8, 64, { width: width - 90, height: 22, ellipsis: true })
  doc.font('regular').fontSize(6.5).fillColor('#333333')
    .text(line('Awarded', c.awardDate), 8, 90, { width: width - 90 })
    .text(line('Valid until', c.validUntil), 8, 100, { width: width - 90 })
    .text(line('ID', c.credentialId), 8, 110, { width: width - 90 })
  doc.font('bold').fontSize(6.5).fillColor('#111111').text(c.statusLine, 8, 138, { width: width - 90 })
  doc.font('regular').fontSize(5).fillColor('#333333').text(c.credentialUrl, 8, 124, { width: width - 90 })
  drawQr(doc, c.credentialUrl, width - 80, height - 86, 74)
  if (c.stamp !== undefined) drawStamp(doc, c.stamp, width / 2, height / 2 + 6, 20)
  return await toBuffer(doc)
}
