import { AppError } from '../../kernel/errors.js'

/** An uploaded certificate may be this large: a scanned page, not a portfolio. */
export const EVIDENCE_MAX_BYTES = 5 * 1024 * 1024

const SIGNATURES: ReadonlyArray<{ mediaType: string, extension: string, magic: readonly number[] }> = [
  { mediaType: 'application/pdf', extension: 'pdf', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { mediaType: 'image/png', extension: 'png', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { mediaType: 'image/jpeg', extension: 'jpg', magic: [0xff, 0xd8, 0xff] }
]

export interface EvidenceFile { bytes: Buffer, mediaType: string, filename: string }

/**
 * Accepts a certificate file by what its bytes are (PDF, PNG or JPEG), never
 * by the name or type the browser claims: the stored media type is the one
 * the file proves, so serving it back can never hand out HTML or SVG.
 */
export function checkEvidenceFile (bytes: Buffer, claimedName: string | undefined): EvidenceFile {
  if (bytes.length === 0) throw new AppError('evidence_refused', 'The certificate file is empty.')
  if (bytes.length > EVIDENCE_MAX_BYTES) throw new AppError('evidence_refused', `The certificate file is ${(bytes.length / 1048576).toFixed(1)} MiB; at most ${EVIDENCE_MAX_BYTES / 1048576} MiB is accepted.`)
  const kind = SIGNATURES.find((s) => s.magic.every((byte, i) => bytes[i] === byte))
  if (kind === undefined) throw new AppError('evidence_refused', 'The certificate must be a PDF, PNG or JPEG file.')
  return { bytes, mediaType: kind.mediaType, filename: safeFilename(claimedName, kind.extension) }
}

/** A name fit for Content-Disposition: letters, digits, dot, dash and underscore, with the proven extension. */
function safeFilename (claimed: string | undefined, extension: string): string {
  const base = (claimed ?? '').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80)
  return `${base === '' ? 'certificate' : base}.${extension}`
}
