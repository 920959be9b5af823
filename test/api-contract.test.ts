import { readFileSync } from 'node:fs'
import t from 'tap'
import { PROBLEMS } from '../src/kernel/errors.js'
import { validatorCompiler } from '../src/infrastructure/http/validator-compiler.js'
import { build } from './helpers/build-app.js'

const openApiPath = (url: string): string => url.replace(/:([A-Za-z]+)/g, '{$1}')

t.test('every registered route is in /openapi.json, staff routes with their scope; examples validate', async (t) => {
  const app = await build(t)
  const response = await app.app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(response.statusCode, 200)
  const doc = response.json()
  t.equal(doc.openapi, '3.1.0')
  let operations = 0
  let examples = 0
  for (const route of app.app.routeTable) {
    const schema = (route.schema ?? {}) as { hide?: boolean, body?: { examples?: unknown[] }, querystring?: unknown }
    if (schema.hide === true) continue
    for (const method of ([] as string[]).concat(route.method).filter((m) => m !== 'HEAD')) {
      const operation = doc.paths[openApiPath(route.url)]?.[method.toLowerCase()]
      t.ok(operation, `${method} ${route.url} is documented`)
      if (operation === undefined) continue
      operations++
      t.type(operation.summary, 'string', `${method} ${route.url} has a summary`)
      if (route.url.startsWith('/api/v1/')) {
        t.same(operation.security, [{ bearer: [] }], `${method} ${route.url}: bearer security`)
        t.equal(operation['x-scope'], route.config?.scope, `${method} ${route.url}: its scope`)
      }
      const bodySchema = schema.body
      for (const example of bodySchema?.examples ?? []) {
        examples++
        const validate = validatorCompiler({ schema: bodySchema as object, httpPart: 'body', method, url: route.url }) as (data: unknown) => boolean
        t.ok(validate(example), `${method} ${route.url}: example ${JSON.stringify(example).slice(0, 60)} validates`)
      }
    }
  }
  t.ok(operations >= 30, `${operations} operations documented`)
  t.ok(examples >= 10, `${examples} request examples validated`)
  t.same(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', description: 'A staff API key (tsk_...) or the bootstrap ADMIN_API_KEY' })
  const docs = await app.app.inject({ method: 'GET', url: '/docs' })
  t.equal(docs.statusCode, 200, 'the browsable reference is served')
  t.match(docs.body, /swagger-ui/)
})

t.test('docs/errors.md lists every code of the error catalogue with its status', async (t) => {
  const page = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  for (const [code, entry] of Object.entries(PROBLEMS)) {
    t.match(page, new RegExp(`\\| \`${code}\` \\| ${entry.status} \\| ${entry.title.replace(/[()]/g, '\\$&')} \\|`), code)
  }
})
