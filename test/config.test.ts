import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('defaults give a working development configuration', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.publicBaseUrl, 'http://localhost:3000')
  t.equal(config.databaseUrl, undefined)
  t.match(config.keysDir, /\.data\/keys$/)
  t.equal(config.keysDirConfigured, false)
  t.equal(config.issuer.id, 'main')
  t.ok(Object.isFrozen(config))
})

t.test('PUBLIC_BASE_URL loses its trailing slash and follows PORT by default', async (t) => {
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://badges.example.org/' }).publicBaseUrl, 'https://badges.example.org')
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://example.org/badges/' }).publicBaseUrl, 'https://example.org/badges')
  t.equal(loadConfig({ PORT: '8080' }).publicBaseUrl, 'http://localhost:8080')
})

t.test('every problem is reported at once, naming the variable', async (t) => {
  try {
    loadConfig({ PORT: 'eighty', PUBLIC_BASE_URL: 'ftp://x', DATABASE_URL: 'mysql://x', ADMIN_API_KEY: 'short', LOG_LEVEL: 'loud', ISSUER_ID: 'Not A Slug' })
    t.fail('should throw')
  } catch (error) {
    t.type(error, ConfigError)
    const problems = (error as ConfigError).problems.join('\n')
    for (const name of ['PORT', 'PUBLIC_BASE_URL', 'DATABASE_URL', 'ADMIN_API_KEY', 'LOG_LEVEL', 'ISSUER_ID']) {
      t.match(problems, `"${name}"`, `${name} is named`)
    }
  }
})
