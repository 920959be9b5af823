import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Polls the signing keys' state every `intervalMs` and swaps the signers when
 * it changed, so a rotation or a compromise made with the admin CLI (or on
 * another instance) takes effect within seconds, without a restart.
 */
export const keyRingRefresh = fp(async (app: FastifyInstance, options: { intervalMs: number }) => {
  if (app.keyRing.refresh === undefined || options.intervalMs <= 0) return
  const refresh = app.keyRing.refresh
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const run = (): void => {
    running = running.then(async () => {
      if (await refresh()) app.log.info('signing keys changed: signers reloaded')
    }).catch((error: unknown) => { app.log.error({ err: error }, 'signing key refresh failed; will retry') })
  }
  app.addHook('onReady', async () => { timer = setInterval(run, options.intervalMs).unref() })
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })
}, { name: 'key-ring-refresh' })
