/**
 * Starts a batch of `count` credentials over HTTP and hangs up once its first
 * chunk is stored, as a load generator stopping or a browser tab closed
 * mid-batch does: the client is gone, the handler runs on. Returns how many
 * were stored when it hung up, and what the client got (an abort error).
 */
export async function hangUpDuringBatch (options: { url: string, headers: Record<string, string>, achievementId: string, count: number, countStored: () => Promise<number> }): Promise<{ stored: number, clientGot: unknown }> {
  const items = Array.from({ length: options.count }, (_, i) => ({ achievementId: options.achievementId, recipient: { name: `Holder ${i}`, email: `holder${i}@example.org` } }))
  const client = new AbortController()
  const answered = fetch(options.url, { method: 'POST', headers: { ...options.headers, 'content-type': 'application/json' }, body: JSON.stringify({ items }), signal: client.signal }).catch((error: unknown) => error)
  let stored = 0
  for (let waited = 0; stored === 0 && waited < 120_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    stored = await options.countStored()
  }
  client.abort()
  return { stored, clientGot: await answered }
}
