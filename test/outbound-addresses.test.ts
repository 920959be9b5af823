import { isIP } from 'node:net'
import t from 'tap'
import { fetchPastedCredential } from '../src/capabilities/verification/fetch-credential-url.js'
import { addressClass, isBlockedAddress } from '../src/infrastructure/outbound/outbound.js'
import { fanOutEvent } from '../src/capabilities/notifications/fan-out.js'
import { attemptDelivery } from '../src/capabilities/notifications/webhooks/deliver.js'
import { postWebhook } from '../src/capabilities/notifications/webhooks/post-webhook.js'
import { build, createAchievement, issue, type TestApp } from './helpers/build-app.js'
import { startReceiver } from './helpers/notifications.js'

/**
 * Every special-purpose class the outbound client must never reach, one or two
 * addresses each, with the class that refuses it: an ipaddr.js range name, or
 * 'notGlobalUnicast' for the service's own rule (IPv6 outside 2000::/3).
 */
const REFUSED: ReadonlyArray<readonly [label: string, address: string, refusedAs: string]> = [
  ['IPv4 loopback', '127.0.0.1', 'loopback'],
  ['IPv4 loopback, top of 127/8', '127.255.255.254', 'loopback'],
  ['private 10/8', '10.0.0.1', 'private'],
  ['private 172.16/12', '172.16.0.1', 'private'],
  ['private 172.16/12, top', '172.31.255.254', 'private'],
  ['private 192.168/16', '192.168.1.1', 'private'],
  ['carrier-grade NAT 100.64/10', '100.64.0.1', 'carrierGradeNat'],
  ['carrier-grade NAT 100.64/10, top', '100.127.255.254', 'carrierGradeNat'],
  ['IPv4 link-local (cloud metadata)', '169.254.169.254', 'linkLocal'],
  ['IPv4 multicast', '224.0.0.1', 'multicast'],
  ['IPv4 multicast (SSDP)', '239.255.255.250', 'multicast'],
  ['IPv4 unspecified', '0.0.0.0', 'unspecified'],
  ['IPv4 "this network" 0/8', '0.1.2.3', 'unspecified'],
  ['IPv4 limited broadcast', '255.255.255.255', 'broadcast'],
  ['IETF protocol assignments 192.0.0/24', '192.0.0.8', 'reserved'],
  ['TEST-NET-1 192.0.2/24', '192.0.2.1', 'reserved'],
  ['TEST-NET-2 198.51.100/24', '198.51.100.1', 'reserved'],
  ['TEST-NET-3 203.0.113/24', '203.0.113.1', 'reserved'],
  ['IPv4 benchmarking 198.18/15', '198.18.0.1', 'reserved'],
  ['IPv4 benchmarking 198.18/15, top', '198.19.255.254', 'reserved'],
  ['reserved 240/4', '240.0.0.1', 'reserved'],
  ['IPv6 loopback', '::1', 'loopback'],
  ['IPv6 unspecified', '::', 'unspecified'],
  ['IPv6 link-local', 'fe80::1', 'linkLocal'],
  ['IPv6 link-local with a zone', 'fe80::1%eth0', 'linkLocal'],
  ['IPv6 multicast, link scope', 'ff02::1', 'multicast'],
  ['IPv6 multicast, global scope', 'ff0e::1', 'multicast'],
  ['IPv4-mapped loopback', '::ffff:127.0.0.1', 'ipv4Mapped'],
  ['IPv4-mapped private, hex spelling', '::ffff:a00:1', 'ipv4Mapped'],
  ['IPv4-mapped public (refused outright)', '::ffff:8.8.8.8', 'ipv4Mapped'],
  ['IPv4-translated ::ffff:0:0:0/96', '::ffff:0:7f00:1', 'rfc6145'],
  // ipaddr.js reads the dotted spelling ::a.b.c.d as IPv4-mapped, the hex one as unicast: the extra rule catches that.
  ['IPv4-compatible loopback, dotted', '::127.0.0.1', 'ipv4Mapped'],
  ['IPv4-compatible loopback, hex', '::7f00:1', 'notGlobalUnicast'],
  ['IPv4-compatible public, hex', '::808:808', 'notGlobalUnicast'],
  ['6to4 of a loopback', '2002:7f00:1::1', '6to4'],
  ['6to4 of a private address', '2002:c0a8:101::1', '6to4'],
  ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ['NAT64 well-known prefix 64:ff9b::/96', '64:ff9b::7f00:1', 'rfc6052'],
  ['NAT64 local-use prefix 64:ff9b:1::/48', '64:ff9b:1::a00:1', 'rfc6052'],
  ['deprecated site-local fec0::/10', 'fec0::1', 'deprecatedSiteLocal'],
  ['unique-local fc00::/7', 'fc00::1', 'uniqueLocal'],
  ['unique-local fd00::/8', 'fd12:3456::1', 'uniqueLocal'],
  ['IPv6 documentation 2001:db8::/32', '2001:db8::1', 'reserved'],
  ['IPv6 documentation 3fff::/20', '3fff::1', 'reserved'],
  ['IPv6 benchmarking 2001:2::/48', '2001:2::1', 'benchmarking'],
  ['IPv6 discard-only 100::/64', '100::1', 'discard'],
  ['IPv6 outside the global unicast allocation', '4000::1', 'notGlobalUnicast']
]

const ALLOWED = ['8.8.8.8', '1.1.1.1', '93.184.215.14', '2606:4700::1111', '2001:4860:4860::8888']

/** Decimal, octal and hex IPv4 spellings: WHATWG URL parsing turns each into a dotted quad. */
const ODD_SPELLINGS: ReadonlyArray<readonly [host: string, dotted: string]> = [
  ['2130706433', '127.0.0.1'],
  ['0177.0.0.1', '127.0.0.1'],
  ['0x7f.1', '127.0.0.1'],
  ['0x7f000001', '127.0.0.1'],
  ['017700000001', '127.0.0.1'],
  ['3232235777', '192.168.1.1'],
  ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
  ['0', '0.0.0.0']
]

/** The URL literal for an address: IPv6 in brackets (zones cannot appear in URLs, so those are left out). */
const literal = (address: string): string => isIP(address) === 6 ? `[${address}]` : address
const IN_URLS = REFUSED.filter(([, address]) => !address.includes('%'))
/** Every host spelling end-to-end tests put in a URL: each refused class, then the odd IPv4 spellings. */
const HOSTS: ReadonlyArray<readonly [label: string, host: string]> = [
  ...IN_URLS.map(([label, address]) => [label, literal(address)] as const),
  ...ODD_SPELLINGS.map(([host, dotted]) => [`${host} (${dotted})`, host] as const)
]
/** A resolver that answers `address` for any name, as a hostile DNS server would. */
const answering = (address: string) => async (): Promise<Array<{ address: string, family: number }>> => [{ address, family: isIP(address) }]

t.test('the classifier refuses every special-purpose class and allows global unicast', async (t) => {
  for (const [label, address, refusedAs] of REFUSED) {
    t.ok(isBlockedAddress(address), `${label}: ${address} refused`)
    t.equal(addressClass(address), refusedAs, `${label}: ${address} is ${refusedAs}`)
  }
  for (const address of ALLOWED) {
    t.notOk(isBlockedAddress(address), `${address} allowed`)
    t.equal(addressClass(address), 'unicast')
  }
  for (const notAnAddress of ['', 'example.org', '0177.0.0.1', '0x7f.1', '2130706433', '127.1', '[::1]', '1.2.3.4.5']) {
    t.equal(addressClass(notAnAddress), 'invalid', `"${notAnAddress}" is not an address literal, so refused`)
  }
  for (const [host, dotted] of ODD_SPELLINGS) t.equal(new URL(`https://${host}/`).hostname, dotted, `URL parsing turns ${host} into ${dotted}`)
})

t.test('the /verify page refuses to fetch a pasted link to any refused address, however it is spelled', async (t) => {
  const app = await build(t)
  const paste = async (link: string): Promise<{ statusCode: number, body: string }> => {
    const boundary = 'FORMBOUNDARY'
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="credential"\r\n\r\n${link}\r\n--${boundary}--\r\n`
    return await app.app.inject({ method: 'POST', url: '/verify', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })
  }
  for (const [label, host] of HOSTS) {
    const response = await paste(`https://${host}/credential.json`)
    t.equal(response.statusCode, 422, `${label}: ${host}`)
    t.match(response.body, /is on a private or local network; only public https addresses are fetched\./, `${label}: said why`)
  }
  // The page's fetch resolves names with the system resolver; the function under it takes one, as a hostile DNS answer.
  for (const [label, address] of REFUSED) {
    await t.rejects(fetchPastedCredential('https://badges.example.net/c/1', { allowLoopback: false, resolveName: answering(address) as never }), { name: 'FetchRefusedError', message: 'The host "badges.example.net" is on a private or local network; only public https addresses are fetched.' }, `${label}: a name resolving to ${address}`)
  }
})

t.test('webhook registration refuses a URL with any refused address, however it is spelled', async (t) => {
  const app = await build(t)
  for (const [label, host] of HOSTS) {
    const response = await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: `https://${host}/hooks`, events: ['credential.issued'] } })
    t.equal(response.statusCode, 400, `${label}: ${host}`)
    t.match(response.json(), { type: /validation_failed$/, detail: '"url" must not point at a private, loopback or link-local address.' }, `${label}: said why`)
  }
  t.equal((await app.sql`select count(*)::int as n from webhooks`)[0]?.n, 0, 'none registered')
})

t.test('webhook delivery refuses a target that is, or resolves to, a refused address', async (t) => {
  const app = await build(t)
  const hook = (await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url: 'https://receiver.invalid/hooks', events: ['credential.issued'] } })).json()
  const achievement = await createAchievement(app)
  await issue(app, { achievementId: achievement.id, recipient: { name: 'Hook Holder', email: 'hook@example.org' }, notify: false })
  const [event] = await app.sql`select id from events`
  await fanOutEvent({ sql: app.sql, jobs: app.app.jobs, clock: () => new Date() }, event!.id)
  const [delivery] = await app.sql`select id from webhook_deliveries where webhook_id = ${hook.id}`
  const deps = { sql: app.sql, clock: () => new Date(), config: app.config, log: { info: () => {}, warn: () => {}, error: () => {} } }

  // Registration refuses these URLs, so they are put in place behind its back, as an older or hostile row would be.
  for (const [label, host] of HOSTS) {
    await app.sql`update webhooks set url = ${`https://${host}/hooks`} where id = ${hook.id}`
    t.equal(await attemptDelivery(deps, delivery!.id, { manual: true }), 'failed', `${label}: ${host} not delivered`)
    const [attempt] = await app.sql`select status_code, error from webhook_attempts where delivery_id = ${delivery!.id} order by id desc limit 1`
    t.same({ statusCode: attempt?.status_code, error: attempt?.error }, { statusCode: null, error: 'The webhook URL must not point at a private, loopback or link-local address.' }, `${label}: no request made, and the attempt says why`)
  }
  // A registered name whose DNS answer later points inside: delivery resolves it through the given resolver.
  for (const [label, address] of REFUSED) {
    await t.rejects(postWebhook('https://looks-public.example.org/hooks', '{}', {}, { allowLoopback: false, resolveName: answering(address) as never }), { name: 'WebhookTargetRefused', message: 'The host "looks-public.example.org" resolves to a private or local address.' }, `${label}: a name resolving to ${address}`)
  }
  const mixed = async (): Promise<Array<{ address: string, family: number }>> => [{ address: '2606:4700::1111', family: 6 }, { address: '2002:a00:1::1', family: 6 }]
  await t.rejects(postWebhook('https://looks-public.example.org/hooks', '{}', {}, { allowLoopback: false, resolveName: mixed as never }), { name: 'WebhookTargetRefused' }, 'one refused answer among public ones refuses the name')
})

t.test('the development setting still lets webhooks reach loopback, and nothing else private', async (t) => {
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const app: TestApp = await build(t, { env: { OUTBOUND_ALLOW_LOOPBACK: 'true' } })
  const register = async (url: string): Promise<number> => (await app.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: app.auth, payload: { url, events: ['credential.issued'] } })).statusCode
  t.equal(await register(receiver.url), 201, 'http://127.0.0.1 registered')
  t.equal(await register('http://localhost:8080/hooks'), 201, 'http://localhost registered')
  t.equal(await register('http://[::1]:8080/hooks'), 201, 'http://[::1] registered')
  t.equal(await register('http://2130706433:8080/hooks'), 201, 'a decimal spelling of 127.0.0.1 is 127.0.0.1 once parsed: loopback too')
  for (const url of ['https://10.0.0.1/hooks', 'https://[::ffff:7f00:1]/hooks', 'https://[::7f00:1]/hooks', 'https://3232235777/hooks', 'https://[fec0::1]/hooks', 'http://127.0.0.2:8080/hooks']) {
    t.equal(await register(url), 400, `${url} still refused`)
  }
  const answer = await postWebhook(receiver.url, '{"ok":true}', {}, { allowLoopback: true })
  t.equal(answer.status, 200, 'delivered to the loopback receiver')
  t.equal(receiver.received[0]?.body, '{"ok":true}')
  await t.rejects(postWebhook(receiver.url, '{}', {}, { allowLoopback: false }), { name: 'WebhookTargetRefused' }, 'and refused without the setting')
})

t.test('OUTBOUND_ALLOW_LOOPBACK opens loopback names to every outbound path, and nothing else', async (t) => {
  const issuer = await startReceiver()
  t.teardown(issuer.close)
  // The pasted-link fetch was https-only whatever the setting: a loopback issuer could not be pasted.
  t.equal(await fetchPastedCredential(issuer.url, { allowLoopback: true }), 'ok', 'a pasted http://127.0.0.1 link is fetched under the switch')
  await t.rejects(fetchPastedCredential(issuer.url, { allowLoopback: false }), { name: 'FetchRefusedError', message: 'Only https links can be fetched.' }, 'and refused without it')
  // "localhost" whose DNS answer is a private address: the switch opened every private range to it before.
  await t.rejects(postWebhook('http://localhost:9/hooks', '{}', {}, { allowLoopback: true, resolveName: answering('10.0.0.1') as never }), { name: 'WebhookTargetRefused', message: 'The host "localhost" resolves to a private or local address.' }, 'a loopback name answering a private address is refused')
  await t.rejects(fetchPastedCredential('http://localhost:9/c/1', { allowLoopback: true, resolveName: answering('192.168.1.1') as never }), /private or local network/, 'the pasted-link fetch too')
  await t.rejects(fetchPastedCredential('https://looks-public.example.org/c/1', { allowLoopback: true, resolveName: answering('127.0.0.1') as never }), /private or local network/, 'a public name answering loopback is refused: only the loopback names are opened')
})
