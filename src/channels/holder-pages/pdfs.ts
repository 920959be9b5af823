/**
 * The printable certificate and wallet card. They are drawn in
 * capabilities/design/printables.ts, with the achievement's design, so that
 * the staff console's certificate preview (design/preview-certificate.ts) and
 * the holder's download are one drawing; this channel serves them.
 */
export { CARD_SIZE, certificatePdf, walletCardPdf, type PrintableCredential } from '../../capabilities/design/printables.js'
