import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { build, CMA_ACHIEVEMENT, createAchievement, issue } from './helpers/build-app.js'

/**
 * src/infrastructure/jsonld/shared-term-definitions.ts changes how jsonld copies active
 * contexts; it must not change a single canonical N-Quad. Every OB 3.0
 * fixture and credentials this service issued (an image, a recertified
 * and a corrected version) are canonized in two
 * child processes, one with jsonld as shipped and one with the change, each
 * twice in a row (a term definition changed by one document would show in
 * the next); every output must be identical.
 */

const run = promisify(execFile)
const helper = path.resolve('test/helpers/canonical-nquads.ts')

t.test('canonical N-Quads are identical with and without shared term definitions', { timeout: 240_000 }, async (t) => {
  const app = await build(t)
  const achievement = await createAchievement(app, {
    ...CMA_ACHIEVEMENT,
    image: { id: 'data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E', caption: 'The CMA (AAMA) pin' },
    recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
  })
  const issued = await issue(app, { achievementId: achievement.id, recipient: { name: 'Jane Q. Assistant', email: 'jane@example.org' }, validFrom: '2021-09-30T00:00:00Z' })
  const recertified = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/recertify`, headers: app.auth, payload: { method: 'exam' } })
  const corrected = await app.app.inject({ method: 'POST', url: `/api/v1/credentials/${issued.id}/reissue`, headers: app.auth, payload: { reason: 'correction', recipient: { name: 'Jane Q. Smith' } } })
  const list = await app.app.inject({ url: new URL(issued.credential.credentialStatus.statusListCredential).pathname })
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-nquads-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const documents = { 'issued.json': issued.credential, 'recertified.json': recertified.json().credential, 'corrected.json': corrected.json().credential, 'status-list.json': list.json() }
  for (const [name, document] of Object.entries(documents)) await writeFile(path.join(dir, name), JSON.stringify(document))

  const canonize = async (shared: boolean): Promise<{ first: Record<string, string>, second: Record<string, string>, termDefinitionCopies: number }> => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', helper, ...(shared ? ['--shared'] : []), 'test/fixtures/ob3/examples', dir], { maxBuffer: 64 * 1024 * 1024 })
    return JSON.parse(stdout) as { first: Record<string, string>, second: Record<string, string>, termDefinitionCopies: number }
  }
  const [stock, shared] = await Promise.all([canonize(false), canonize(true)])
  const files = Object.keys(stock.first)
  t.ok(files.length >= 40, `${files.length} documents`)
  const canonized = files.filter((f) => !stock.first[f]?.startsWith('error:'))
  t.ok(canonized.length >= 35, `${canonized.length} of them canonize (any other must fail alike)`)
  t.ok(stock.termDefinitionCopies > 1000, `jsonld as shipped deep-copied term definitions ${stock.termDefinitionCopies} times`)
  t.equal(shared.termDefinitionCopies, 0, 'with the change, never: the change was in effect')
  t.ok(Object.keys(documents).every((name) => canonized.includes(path.join(dir, name))), 'including the credentials and list this service issued')
  t.same(shared.first, stock.first, 'the same N-Quads (or the same error) for every document')
  t.same(shared.second, stock.first, 'and again on a second pass in the same process')
  t.same(stock.second, stock.first)
})
