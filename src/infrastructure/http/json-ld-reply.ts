import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../../kernel/errors.js'
import { negotiate } from './content-negotiation.js'

/** The media types a JSON-LD document is offered in, by default (the order is the preference). */
export const JSON_LD_TYPES = ['application/ld+json', 'application/json'] as const

declare module 'fastify' {
  interface FastifyReply {
    /**
     * Sends a JSON-LD document (an object, or JSON text sent byte for byte),
     * as application/ld+json or application/json by the request's Accept header.
     */
    sendJsonLd: (document: object | string, offered?: readonly string[]) => FastifyReply
  }
}

const jsonLdReply: FastifyPluginAsync = async (app) => {
  app.decorateReply('sendJsonLd', function (this: FastifyReply, document: object | string, offered: readonly string[] = JSON_LD_TYPES) {
    const type = negotiate(this.request.headers.accept, offered)
    if (type === undefined) throw new AppError('not_acceptable', `This resource is available as ${offered.join(', ')}.`)
    void this.header('Vary', 'Accept').type(`${type}; charset=utf-8`)
    // Serialised here, not by a response schema: a schema would drop or reorder fields of signed documents.
    return this.send(typeof document === 'string' ? document : JSON.stringify(document))
  })
}

export default fp(jsonLdReply, { name: 'json-ld-reply' })
