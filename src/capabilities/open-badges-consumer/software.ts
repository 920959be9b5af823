import { createRequire } from 'node:module'

/** This service's version as registered at Hosts (RFC 7591 software_version), from package.json. */
export function softwareVersion (): string {
  const require = createRequire(import.meta.url)
  return (require('../../../package.json') as { version: string }).version
}
