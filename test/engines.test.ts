/**
 * `engines.node` in package.json is a promise to whoever installs the service:
 * every Node.js version it admits must satisfy every installed package's own
 * `engines.node` (read from the lockfile, which `npm ci` installs exactly).
 * Before this test the README said 20.11 while cookie@2 wanted Node 22.
 */
import { readFile } from 'node:fs/promises'
import semver from 'semver'
import t from 'tap'

const root = new URL('../', import.meta.url)
const manifest = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { engines: { node: string } }
const lock = JSON.parse(await readFile(new URL('package-lock.json', root), 'utf8')) as { packages: Record<string, { version?: string, engines?: Record<string, string> | string[] }> }

t.test('every installed package accepts every Node.js version package.json admits', async (t) => {
  const ours = manifest.engines.node
  t.ok(semver.validRange(ours), `engines.node "${ours}" is a range`)
  const refusing: string[] = []
  let checked = 0
  for (const [where, entry] of Object.entries(lock.packages)) {
    const theirs = Array.isArray(entry.engines) ? undefined : entry.engines?.node
    if (where === '' || theirs === undefined) continue
    checked++
    if (!semver.subset(ours, theirs, { includePrerelease: false })) refusing.push(`${where.replace(/^.*node_modules\//, '')}@${entry.version ?? '?'} wants ${theirs}`)
  }
  t.ok(checked > 100, `${checked} packages declare engines.node`)
  t.same(refusing, [], 'no installed package refuses a Node.js version we admit')
})

t.test('the Node.js running the tests is one package.json admits', async (t) => {
  t.ok(semver.satisfies(process.version, manifest.engines.node), `${process.version} satisfies ${manifest.engines.node}`)
})
