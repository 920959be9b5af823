import type { FastifyInstance } from 'fastify'
import { sendProblem } from '../../kernel/errors.js'

export async function healthRoutes (app: FastifyInstance): Promise<void> {
  // Liveness: the process is up and serving HTTP.
  app.get('/health', async () => ({ status: 'ok' }))

  // Readiness: the database answers within a short time.
  app.get('/ready', async (request, reply) => {
    try {
      await Promise.race([
        app.sql`select 1`,
        new Promise((_resolve, reject) => setTimeout(() => { reject(new Error('timeout')) }, 2000).unref())
      ])
      return { status: 'ready', database: 'ok' }
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed')
      void reply.header('Retry-After', '5')
      return sendProblem(reply, 'database_unavailable', 'The database is not answering.')
    }
  })
}
