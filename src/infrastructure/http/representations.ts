import type { FastifyReply } from 'fastify'

/**
 * Representations of a resource that a channel other than the resource's own
 * adds: the holder pages register the HTML page of a credential, which the
 * credential URL serves to browsers by content negotiation. The resource's
 * route asks this registry at request time and never imports the channel.
 */
export type CredentialPageResponder = (reply: FastifyReply, id: string, version?: number) => Promise<FastifyReply>

export class Representations {
  /** The HTML page at a credential (or version) URL, once the holder pages are registered. */
  credentialPage?: CredentialPageResponder
}
