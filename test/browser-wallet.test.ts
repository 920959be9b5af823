import path from 'node:path'
import jsQRModule from 'jsqr'
import { PNG } from 'pngjs'
import { accessibilityViolations, openBrowser } from './helpers/browser.js'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'
import { startSmtpServer } from './helpers/notifications.js'
import { signInLink } from './helpers/portal.js'
import { testNeeding } from './helpers/system-tools.js'
import { freePort } from '../src/infrastructure/db/embedded.js'

// jsqr is CommonJS with a default export; under ESM interop it arrives as the module object.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null

/** The text of the QR code in a PNG (jsqr, an independent decoder), or undefined. */
function decodeQr (png: Buffer): string | undefined {
  const image = PNG.sync.read(png)
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data
}

/**
 * Add to wallet as a holder goes through it, in a real headless Chromium: sign
 * in with the emailed link (a real SMTP server), My badges, "Add to wallet",
 * the button, and the offer's page. Its QR code, decoded from the screenshot
 * of what the browser drew (and from the image itself), is the interaction
 * URL the page is at; that URL, asked for JSON as a wallet asks, names the
 * protocols; the Learner Credential Wallet and LearnCard buttons carry the
 * VC API exchange it names, in the links those wallets take.
 */
testNeeding(['chromium'], 'a holder adds a badge to a wallet: the QR code on the page decodes to the interaction URL, which names the protocols the wallets\' buttons start', { timeout: 180_000 }, async (t) => {
  const smtp = await startSmtpServer()
  t.teardown(smtp.close)
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app = await build(t, { env: { SMTP_URL: smtp.url, PUBLIC_BASE_URL: base } })
  const cma = await createAchievement(app, CMA_ACHIEVEMENT)
  const issued = await issue(app, { achievementId: cma.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' } })
  await app.app.listen({ port, host: '127.0.0.1' })

  const { page, shots } = await openBrowser(t)
  await page.goto(`${base}/account`)
  await page.getByLabel('Email address').fill('jane@example.org')
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click()
  await app.app.background.settled()
  const mail = smtp.messages.find((m) => m.envelopeTo.includes('jane@example.org') && /sign-in/i.test(m.subject ?? ''))
  const link = new URL(signInLink(mail?.text ?? ''))
  await page.goto(`${base}${link.pathname}${link.search}`)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${base}/account`)
  t.equal(await page.locator('h1').textContent(), 'My badges')

  await page.getByRole('link', { name: 'Add to wallet' }).click()
  await page.waitForURL(`${base}/account/badges/${issued.id}/wallet`)
  t.equal(await page.locator('h1').textContent(), 'Add your badge to a wallet')
  t.match(await page.locator('main').textContent(), /Your other copies keep working/)
  t.same(await accessibilityViolations(page), [], 'axe-core: the Add to wallet page')
  await page.getByRole('button', { name: 'Add to wallet' }).click()
  await page.waitForURL(/\/wallet\/offers\/[\w-]{43}\?iuv=1$/)
  const here = page.url()
  t.match(await page.locator('main').textContent(), /It works once, and until \d{1,2} \w+ \d{4} at \d\d:\d\d UTC \(in 15 minutes\)/, 'once, and when it expires')

  // The QR code as the browser drew it (a screenshot of the element), and as the image it was given.
  const qr = page.locator('#wallet-qr')
  await qr.scrollIntoViewIfNeeded()
  const drawn = decodeQr(await qr.screenshot())
  t.equal(drawn, here, 'the QR code the browser shows decodes to the interaction URL, the page\'s own address')
  const src = await qr.getAttribute('src') ?? ''
  t.match(src, /^data:image\/png;base64,/)
  t.equal(decodeQr(Buffer.from(src.slice(src.indexOf(',') + 1), 'base64')), here, 'the image itself too')

  // A wallet's GET of the interaction URL.
  const answer = await fetch(drawn ?? '', { headers: { accept: 'application/json' } })
  t.equal(answer.status, 200)
  t.match(answer.headers.get('vary'), /Accept/)
  const { protocols } = await answer.json() as { protocols: { vcapi: string, OID4VCI: string } }
  const token = /\/wallet\/offers\/([\w-]{43})\?/.exec(here)?.[1] ?? ''
  t.equal(protocols.vcapi, `${base}/wallet/exchanges/${token}`, 'the VC API exchange')
  t.equal(protocols.OID4VCI, `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(`${base}/wallet/oid4vci/offers/${token}`)}`, 'the OID4VCI offer, by reference')

  // The wallets' buttons: the links their own code reads.
  const lcw = new URL(await page.getByRole('link', { name: 'Open in Learner Credential Wallet' }).getAttribute('href') ?? '')
  t.equal(`${lcw.origin}${lcw.pathname}`, 'https://lcw.app/request')
  t.equal(lcw.searchParams.get('vc_request_url'), `${protocols.vcapi}/credential-request`, 'LCW: its credential request link, naming the offer\'s credential request endpoint')
  t.equal(lcw.searchParams.get('auth_type'), 'bearer')
  t.ok((lcw.searchParams.get('challenge') ?? '').length >= 20, 'with a challenge')
  const lcwApp = await page.getByRole('link', { name: 'Open the offer in the Learner Credential Wallet app' }).getAttribute('href') ?? ''
  t.equal(lcwApp, `dccrequest://request?${lcw.search.slice(1)}`, 'LCW\'s own scheme, with the same request')
  const learnCard = new URL(await page.getByRole('link', { name: 'Open in LearnCard' }).getAttribute('href') ?? '')
  t.equal(`${learnCard.origin}${learnCard.pathname}`, 'https://learncard.app/request')
  t.equal(learnCard.searchParams.get('vc_request_url'), protocols.vcapi, 'LearnCard: vc_request_url is the VC API exchange')

  // The second QR code: the openid-credential-offer:// offer for OID4VCI wallets.
  const oid4vci = page.locator('#oid4vci-qr')
  await oid4vci.scrollIntoViewIfNeeded()
  t.equal(decodeQr(await oid4vci.screenshot()), protocols.OID4VCI, 'the OID4VCI QR code decodes to the openid-credential-offer:// offer')
  t.equal(await page.getByRole('link', { name: 'Open the OpenID4VCI offer in a wallet on this device' }).getAttribute('href'), protocols.OID4VCI)

  t.same(await accessibilityViolations(page), [], 'axe-core: the offer\'s page')
  await page.screenshot({ path: path.join(shots, 'wallet-offer.png'), fullPage: true })

  // Reloading shows the same offer: post, then redirect; one offer was made.
  await page.reload()
  t.equal(page.url(), here)
  const offers = await app.sql<Array<{ channel: string }>>`select channel from wallet_offers where credential_id = ${issued.id} and channel = 'portal'`
  t.equal(offers.length, 1, 'one portal offer')
})
