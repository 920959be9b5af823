import t from 'tap'
import { DocumentCache, DOCUMENT_TTL_MS } from '../src/infrastructure/caching/document-cache.js'

t.test('a cached document lives a bounded time even if no change is ever heard', async (t) => {
  t.equal(DOCUMENT_TTL_MS, 60_000, 'a minute by default')
  const cache = new DocumentCache<{ text: string, bytes: number }>(1000, 100)
  await cache.read('k', async () => ({ text: 'old', bytes: 10 }))
  t.equal((await cache.read('k', async () => ({ text: 'new', bytes: 10 })))?.text, 'old', 'served from memory within its lifetime')
  await new Promise((resolve) => setTimeout(resolve, 250))
  t.equal((await cache.read('k', async () => ({ text: 'new', bytes: 10 })))?.text, 'new', 'read again from the source after it')
})
