import type { FastifyInstance } from 'fastify'
import { TAG } from '../../infrastructure/http/api-contract.js'
import { problems } from '../../infrastructure/http/common-schemas.js'
import { sendProblem } from '../../kernel/errors.js'

export async function healthRoutes (app: FastifyInstance): Promise<void> {
  // Liveness: the process is up and serving HTTP. X-Tessera-Process names the process that
  // answered (its pid, as in its log lines): with WEB_CONCURRENCY > 1 each HTTP process answers some.
  const processHeader = String(process.pid)
  app.get('/health', {
    schema: {
      summary: 'Liveness: the process is up',
      tags: [TAG.operations],
      response: {
        200: { description: 'Up', type: 'object', additionalProperties: false, required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } }
      }
    }
  }, async (_request, reply) => {
    void reply.header('X-Tessera-Process', processHeader)
    return { status: 'ok' }
  })

  // Readiness: the database answers within a short time.
  app.get('/ready', {
    schema: {
      summary: 'Readiness: the database answers',
      tags: [TAG.operations],
      response: {
        200: { description: 'Ready to serve', type: 'object', additionalProperties: false, required: ['status', 'database'], properties: { status: { type: 'string', enum: ['ready'] }, database: { type: 'string', enum: ['ok'] } } },
        ...problems([503, 'The database is not answering (Retry-After)'])
      }
    }
  }, async (request, reply) => {
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
