import PDFDocument from 'pdfkit'
import QRCode from 'qrcode'
import { fileURLToPath } from 'node:url'
import type { Palette } from '../../infrastructure/web/images.js'
import type { Design } from './store.js'
import { fillWording } from './wording.js'

/**
 * The printable certificate (US Letter, landscape) and wallet card
 * (85.6 × 54 mm, ID-1), drawn with PDFKit from the stored credential. The QR
 * code is drawn as vector squares (it stays sharp at any print size) and
 * leads to the credential URL, where the live status is.
 *
 * The wallet card is drawn at its exact size on a US Letter page (it fits A4
 * too) with crop marks, a "print at 100%" note and a 50 mm bar to check the
 * print against: a card-sized page is blown up to a whole sheet by viewers
 * that "fit to page" (Chrome's and macOS Preview's default), and a holder
 * could not tell. Both PDFs also ask viewers not to scale (PrintScaling None).
 *
 * With the achievement's design (loaded with its images' bytes), the
 * certificate carries its title line, wording, logo, seal and signatories, and
 * the card its logo; the colours come in `palette`. Without one, both are
 * drawn exactly as they were before designs existed.
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
  /** What the holder can do about it (renewalAdvice's sentence, through the status banner); undefined when nothing. */
  advice?: string
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

/** PDFKit writes `displayTitle` as the catalog's ViewerPreferences; it has no option for PrintScaling, so it is added to that dictionary. */
interface ViewerPreferences { _root: { data: { ViewerPreferences?: { data: Record<string, unknown> } } } }

function newDocument (size: [number, number], title: string): PDFKit.PDFDocument {
  const doc = new PDFDocument({ size, margin: 0, displayTitle: true, info: { Title: title, Creator: 'Tessera' } })
  const preferences = (doc as unknown as ViewerPreferences)._root.data.ViewerPreferences
  // A JS string is written as a PDF name: /PrintScaling /None, "print at actual size" in the print dialog.
  if (preferences !== undefined) preferences.data.PrintScaling = 'None'
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

/** Draws a stored design image fitted into a box; one PDFKit cannot read is left out rather than failing the whole document. */
function drawImage (doc: PDFKit.PDFDocument, png: Buffer | undefined, x: number, y: number, fit: [number, number]): void {
  if (png === undefined) return
  try {
    doc.image(png, x, y, { fit, align: 'center', valign: 'center' })
  } catch {
    // The PNG passed the upload checks; PDFKit's reader is stricter about a few encodings. The certificate still prints.
  }
}

export async function certificatePdf (c: PrintableCredential, design?: Design): Promise<Buffer> {
  const [width, height] = [11 * 72, 8.5 * 72]
  const doc = newDocument([width, height], `${c.achievementName}: ${c.holderName}`)
  doc.rect(24, 24, width - 48, height - 48).lineWidth(6).stroke(c.palette.primary)
  doc.rect(36, 36, width - 72, height - 72).lineWidth(1.5).stroke(c.palette.accent)
  const centred = { width: width - 160, align: 'center' as const }
  const words = wordingOf(c, design)
  const logo = design?.images.logo?.png
  const seal = design?.images.seal?.png
  // The logo and seal sit in the top corners: the issuer's name keeps clear of them.
  const cornered = logo !== undefined || seal !== undefined
  drawImage(doc, logo, 52, 52, [120, 72])
  drawImage(doc, seal, width - 152, 52, [100, 100])
  // A designed line keeps to one line (ellipsised) so a long one cannot run into the next; the default lines are drawn as they always were.
  const oneLine = (designed: boolean, height: number): PDFKit.Mixins.TextOptions => designed ? { ...centred, height, ellipsis: true } : centred
  if (cornered) {
    // Between the corners the name has 432 pt: it is set smaller to fit on one line (down to 13 pt, then ellipsised).
    doc.font('bold').fontSize(fittedSize(doc, c.issuerName, width - 360, 20, 13)).fillColor(c.palette.primary).text(c.issuerName, 180, 80, { ...centred, width: width - 360, height: 26, ellipsis: true })
  } else {
    doc.font('bold').fontSize(20).fillColor(c.palette.primary).text(c.issuerName, 80, 80, centred)
  }
  if (words.title !== undefined) doc.font('bold').fontSize(22).fillColor(c.palette.accent).text(words.title, 80, 124, oneLine(true, 28))
  doc.font('regular').fontSize(14).fillColor('#333333').text(words.before, 80, 170, oneLine(design?.statementBefore != null, 20))
  doc.font('bold').fontSize(34).fillColor('#111111').text(c.holderName, 80, 200, centred)
  doc.font('regular').fontSize(14).fillColor('#333333').text(words.after, 80, 262, oneLine(design?.statementAfter != null, 20))
  const signatures = signaturesOf(design)
  // With signatures under it, the achievement's name keeps to its line (two at most) so they stay clear.
  doc.font('bold').fontSize(26).fillColor(c.palette.primary).text(c.achievementName, 80, 290, signatures.length === 0 ? centred : { ...centred, height: 36, ellipsis: true })
  signatures.forEach((signature, i) => {
    const centreX = signatures.length === 1 ? width / 2 : width / 2 + (i === 0 ? -140 : 140)
    drawImage(doc, signature.png, centreX - 80, 330, [160, 36])
    doc.lineWidth(0.75).strokeColor('#333333').moveTo(centreX - 95, 368).lineTo(centreX + 95, 368).stroke()
    doc.font('bold').fontSize(10).fillColor('#111111').text(signature.name, centreX - 100, 371, { width: 200, align: 'center', lineBreak: false, ellipsis: true })
    doc.font('regular').fontSize(8).fillColor('#333333').text(signature.title, centreX - 100, 384, { width: 200, align: 'center', lineBreak: false, ellipsis: true })
  })
  doc.font('regular').fontSize(12).fillColor('#333333')
    .text(line('Awarded', c.awardDate), 80, 400, { width: 440 })
    .text(line('Valid until', c.validUntil), 80, 420, { width: 440 })
    .text(line('Credential ID', c.credentialId), 80, 440, { width: 440 })
  doc.font('bold').fontSize(12).fillColor('#111111').text(c.statusLine, 80, 496, { width: 440 })
  if (c.advice !== undefined) doc.font('regular').fontSize(10).fillColor('#111111').text(c.advice, 80, 514, { width: 480 })
  doc.font('regular').fontSize(9).fillColor(c.palette.accent).text(c.credentialUrl, 80, 460, { width: 480, link: c.credentialUrl })
  doc.font('regular').fontSize(9).fillColor('#555555').text('Scan or open the link to check its current status.', 80, 476, { width: 440 })
  drawQr(doc, c.credentialUrl, width - 80 - 130, height - 80 - 130, 130)
  if (c.stamp !== undefined) drawStamp(doc, c.stamp, width / 2, height / 2, 64)
  return await toBuffer(doc)
}

/** The largest font size from `start` down to `min` at which `text` fits `width` on one line (`min` when none does). */
function fittedSize (doc: PDFKit.PDFDocument, text: string, width: number, start: number, min: number): number {
  let size = start
  while (size > min && doc.fontSize(size).widthOfString(text) > width) size -= 0.5
  return size
}

/** The certificate's lines: the design's, with the placeholders filled in as plain text, or the defaults. */
function wordingOf (c: PrintableCredential, design: Design | undefined): { title?: string, before: string, after: string } {
  const values = { holderName: c.holderName, achievementName: c.achievementName, issuerName: c.issuerName, ...(c.awardDate !== undefined ? { awardDate: c.awardDate } : {}), ...(c.validUntil !== undefined ? { validUntil: c.validUntil } : {}) }
  const fill = (text: string | null | undefined, otherwise: string): string => text === null || text === undefined ? otherwise : fillWording(text, values)
  const title = design?.titleLine
  return {
    ...(title !== null && title !== undefined ? { title: fillWording(title, values) } : {}),
    before: fill(design?.statementBefore, 'This certifies that'),
    after: fill(design?.statementAfter, 'has earned')
  }
}

/** The signature blocks to draw: each signatory with its image (signature1, signature2), or an image alone. */
function signaturesOf (design: Design | undefined): Array<{ png?: Buffer, name: string, title: string }> {
  if (design === undefined) return []
  const slots = ['signature1', 'signature2'] as const
  return slots.flatMap((slot, i) => {
    const signatory = design.signatories[i]
    const png = design.images[slot]?.png
    if (signatory === undefined && png === undefined) return []
    return [{ ...(png !== undefined ? { png } : {}), name: signatory?.name ?? '', title: signatory?.title ?? '' }]
  })
}

/** ID-1, the size of a bank card. */
export const CARD_SIZE = { width: 85.6 * MM, height: 54 * MM }
const LETTER: [number, number] = [8.5 * 72, 11 * 72]
const CARD_TOP = 190

export async function walletCardPdf (c: PrintableCredential, design?: Design): Promise<Buffer> {
  const [pageWidth] = LETTER
  const doc = newDocument(LETTER, `${c.achievementName}: ${c.holderName} (wallet card)`)
  const left = 72
  const textWidth = pageWidth - 2 * left
  doc.font('bold').fontSize(16).fillColor('#111111').text('Wallet card', left, 60, { width: textWidth })
  doc.font('regular').fontSize(10).fillColor('#333333')
    .text('Print this page at 100% ("Actual size"), not "Fit to page", then cut along the marks. The card is 85.6 × 54 mm, the size of a bank card. To check the print, the bar below measures 50 mm.', left, 84, { width: textWidth })
  const barY = 130
  doc.lineWidth(1).strokeColor('#111111').moveTo(left, barY).lineTo(left + 50 * MM, barY).stroke()
  for (const x of [left, left + 50 * MM]) doc.moveTo(x, barY - 4).lineTo(x, barY + 4).stroke()
  doc.font('regular').fontSize(8).fillColor('#333333').text('50 mm', left + 50 * MM + 6, barY - 4, { lineBreak: false })

  const x = (pageWidth - CARD_SIZE.width) / 2
  doc.save().translate(x, CARD_TOP)
  drawCard(doc, c, design?.images.logo?.png)
  doc.restore()
  drawCropMarks(doc, x, CARD_TOP, CARD_SIZE.width, CARD_SIZE.height)

  // Below the card, on the sheet: what the card alone has no room for.
  const below = CARD_TOP + CARD_SIZE.height + 36
  doc.font('bold').fontSize(10).fillColor('#111111').text(c.statusLine, left, below, { width: textWidth })
  if (c.advice !== undefined) doc.font('regular').fontSize(10).fillColor('#111111').text(c.advice, left, below + 16, { width: textWidth })
  return await toBuffer(doc)
}

/** The card face, with its top-left corner at the origin. */
function drawCard (doc: PDFKit.PDFDocument, c: PrintableCredential, logo?: Buffer): void {
  const { width, height } = CARD_SIZE
  doc.rect(0, 0, width, 26).fill(c.palette.primary)
  // The logo, when the design has one, at the right of the band; the issuer's name keeps clear of it.
  drawImage(doc, logo, width - 50, 3, [44, 20])
  if (logo === undefined) doc.font('bold').fontSize(8).fillColor('#ffffff').text(c.issuerName, 8, 9, { width: width - 16, lineBreak: false, ellipsis: true })
  else doc.font('bold').fontSize(fittedSize(doc, c.issuerName, width - 62, 8, 6)).fillColor('#ffffff').text(c.issuerName, 8, 9, { width: width - 62, height: 10, ellipsis: true })
  doc.font('bold').fontSize(10).fillColor(c.palette.primary).text(c.achievementName, 8, 34, { width: width - 90, height: 26, ellipsis: true })
  doc.font('bold').fontSize(9).fillColor('#111111').text(c.holderName, 8, 64, { width: width - 90, height: 22, ellipsis: true })
  doc.font('regular').fontSize(6.5).fillColor('#333333')
    .text(line('Awarded', c.awardDate), 8, 90, { width: width - 90 })
    .text(line('Valid until', c.validUntil), 8, 100, { width: width - 90 })
    .text(line('ID', c.credentialId), 8, 110, { width: width - 90 })
  doc.font('bold').fontSize(6.5).fillColor('#111111').text(c.statusLine, 8, 138, { width: width - 90 })
  doc.font('regular').fontSize(5).fillColor('#333333').text(c.credentialUrl, 8, 124, { width: width - 90 })
  drawQr(doc, c.credentialUrl, width - 80, height - 86, 74)
  // The cut line, faint, for screens and for a guillotine.
  doc.lineWidth(0.25).strokeColor('#bbbbbb').rect(0, 0, width, height).stroke()
  if (c.stamp !== undefined) drawStamp(doc, c.stamp, width / 2, height / 2 + 6, 20)
}

/** Marks at the four corners, outside the card, along its edges. */
function drawCropMarks (doc: PDFKit.PDFDocument, x: number, y: number, width: number, height: number): void {
  const gap = 6
  const length = 18
  doc.lineWidth(0.5).strokeColor('#000000')
  for (const cx of [x, x + width]) {
    for (const cy of [y, y + height]) {
      const outX = cx === x ? -1 : 1
      const outY = cy === y ? -1 : 1
      doc.moveTo(cx + outX * gap, cy).lineTo(cx + outX * (gap + length), cy).stroke()
      doc.moveTo(cx, cy + outY * gap).lineTo(cx, cy + outY * (gap + length)).stroke()
    }
  }
}
