import { readFileSync } from 'node:fs'
import t from 'tap'
import { productionImage, productionStartArgs } from '../helpers/production-build.js'
import { corruptCredentialPngs, oversizedCredentialPng, quadraticSvgs, zipBombPng } from '../helpers/hostile-files.js'
import { startServiceProcess } from '../helpers/service-process.js'

/**
 * The attack as it reaches production: the compiled build (tsconfig.build.json,
 * as `npm run build` makes it) run exactly as `npm run start:prod` and the
 * Dockerfile run it (its memory flags; test/operations/topology.test.ts keeps
 * the two equal), attacked over real HTTP.
 * The build goes to a temporary folder beside links to what dist/ reads at
 * run time (assets, contexts, schemas, templates, migrations, node_modules),
 * so the working tree's dist/ is never touched.
 */

const RSS_BOUND_MIB = 300
const ADMIN_KEY = 'hostile-upload-test-admin-key-0123456789'

/** Resident set size of a process, from /proc (Linux), in MiB; undefined once it is gone. */
function rssMiB (pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kib === undefined ? undefined : Number(kib) / 1024
  } catch {
    return undefined
  }
}

/** A body fetch accepts (its types want a plain ArrayBuffer behind the bytes). */
const bytes = (body: Buffer | string): Uint8Array<ArrayBuffer> | string => typeof body === 'string' ? body : new Uint8Array(body)

const form = (file: { name: string, type: string, body: Buffer | string }): FormData => {
  const data = new FormData()
  data.append('credential', '')
  data.append('file', new Blob([bytes(file.body)], { type: file.type }), file.name)
  return data
}

t.test('hostile uploads against the production build under its memory cap: 4xx answers, the process survives, RSS stays bounded', { skip: process.platform === 'linux' ? false : 'reads RSS from /proc', timeout: 600_000 }, async (t) => {
  // The run's one production image (test/helpers/production-build.ts: the build, production packages only), shared read-only, run by start:prod's command.
  const service = await startServiceProcess(t, {
    nodeArgs: productionStartArgs(await productionImage()),
    adminKey: ADMIN_KEY,
    env: {
      LOG_LEVEL: 'warn',
      WORKER: 'off',
      // One process, so the RSS sampled below is the one that reads the uploads.
      WEB_CONCURRENCY: '1',
      // The attack runs from one address; the limits under test are the file limits, not the rate limits.
      RATE_LIMIT_VERIFY_PER_MINUTE: '100000',
      // Load shedding would answer 503 before the upload is read; this test wants it read.
      MAX_EVENT_LOOP_DELAY_MS: '0'
    }
  })
  const { base, child: server } = service
  const pid = server.pid ?? 0
  const exited = service.closed.then(({ code, signal }) => `exited (code ${String(code)}, signal ${String(signal)})`)
  const idle = rssMiB(pid) ?? 0
  let peak = idle
  const sampler = setInterval(() => { peak = Math.max(peak, rssMiB(pid) ?? 0) }, 10)
  t.teardown(() => { clearInterval(sampler) })

  const bomb = zipBombPng()
  const { garbage, truncated } = corruptCredentialPngs()
  const svgs = quadraticSvgs()
  const pngs: Array<[string, Buffer, RegExp]> = [
    ['zip bomb', bomb, /./],
    ['oversized credential', oversizedCredentialPng(), /openbadgecredential.*more than/],
    ['garbage zlib', garbage, /openbadgecredential.*not valid zlib/],
    ['truncated zlib', truncated, /openbadgecredential.*not valid zlib/]
  ]
  const uploads: Array<[string, { name: string, type: string, body: Buffer | string }]> = [
    ...pngs.map(([name, body]): [string, { name: string, type: string, body: Buffer }] => [name, { name: 'badge.png', type: 'image/png', body }]),
    ...Object.entries(svgs).map(([name, body]): [string, { name: string, type: string, body: string }] => [`${name} SVG`, { name: 'badge.svg', type: 'image/svg+xml', body }])
  ]
  const attack = async (name: string, send: () => Promise<Response>, check: (response: Response, body: string) => void): Promise<void> => {
    const response = await send().catch(async (error: unknown) => {
      const how = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000, 'closed the connection'))])
      throw new Error(`the server ${String(how)} during "${name}" (peak RSS ${peak.toFixed(0)} MiB): ${String(error)}\n${service.log().slice(-2000)}`)
    })
    const body = await response.text()
    t.ok(response.status >= 400 && response.status < 500, `${name}: a 4xx (${response.status})`)
    check(response, body)
  }

  for (const [name, file] of uploads) {
    await attack(`/verify page, ${name}`, async () => await fetch(`${base}/verify`, { method: 'POST', body: form(file) }), (response, body) => {
      t.match(response.headers.get('content-type'), /^text\/html/, `/verify page, ${name}: the page`)
      t.match(body, /banner--invalid/, `/verify page, ${name}: says it could not be checked`)
      const pattern = pngs.find(([n]) => n === name)?.[2]
      if (pattern !== undefined) t.match(body, pattern, `/verify page, ${name}: names the problem`)
    })
    await attack(`/credentials/verify, ${name}`, async () => await fetch(`${base}/credentials/verify`, { method: 'POST', headers: { 'content-type': file.type }, body: bytes(file.body) }), (response, body) => {
      t.equal(response.status, 400, `/credentials/verify, ${name}: 400`)
      t.match(response.headers.get('content-type'), /^application\/problem\+json/)
      const pattern = pngs.find(([n]) => n === name)?.[2] ?? /./
      t.match((JSON.parse(body) as { detail: string }).detail, pattern, `/credentials/verify, ${name}: names the problem`)
    })
  }
  // The same bomb four times at once: memory per request is bounded, so concurrency multiplies a small number.
  await Promise.all(Array.from({ length: 4 }, async (_, i) => {
    await attack(`/verify page, zip bomb ${i + 1} of 4 at once`, async () => await fetch(`${base}/verify`, { method: 'POST', body: form({ name: 'badge.png', type: 'image/png', body: bomb }) }), () => {})
  }))

  const health = await fetch(`${base}/health`)
  t.equal(health.status, 200, 'the process is still serving afterwards')
  t.same([server.exitCode, server.signalCode], [null, null], 'and has not exited')
  clearInterval(sampler)
  t.comment(`idle RSS ${idle.toFixed(0)} MiB, peak RSS ${peak.toFixed(0)} MiB`)
  t.ok(peak < RSS_BOUND_MIB, `peak RSS ${peak.toFixed(0)} MiB stays below ${RSS_BOUND_MIB} MiB`)
})
