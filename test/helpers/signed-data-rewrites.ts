import { DataIntegrityProof } from '@digitalbazaar/data-integrity'
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite'
import { CompactSign } from 'jose'
import jsigs from 'jsonld-signatures'
import { staticDocumentLoader } from '../../src/infrastructure/jsonld/document-loader.js'
import type { IssuerSigningKeys } from '../../src/capabilities/keys/key-ring.js'

/**
 * An attacker's toolbox against the signed-data judgement: ways to write the
 * statements a credential signs (or nearly the same ones) so that a reader of
 * its plain JSON no longer sees one field. Each rewrite moves one field of
 * the credential node (`validUntil`, `validFrom`, `credentialStatus`,
 * `issuer`) somewhere a plain reader does not look. The result is re-signed
 * with the issuer's own key, so the proof passes whatever the rewrite did to
 * the canonical N-Quads: only the judgement stands between it and `valid`.
 */

type Json = Record<string, any>

export const VC = 'https://www.w3.org/2018/credentials#'
const XSD_DATETIME = 'http://www.w3.org/2001/XMLSchema#dateTime'
const EX = 'https://attacker.example/vocab#'

export const FIELDS = ['validUntil', 'validFrom', 'credentialStatus', 'issuer'] as const
export type Field = typeof FIELDS[number]

const DATE_FIELDS: readonly Field[] = ['validUntil', 'validFrom']

export interface Rewrite {
  name: string
  /** Whether it can move this field of this document (it is there, and the trick fits the field). */
  applies: (doc: Json, field: Field) => boolean
  apply: (doc: Json, field: Field) => Json
}

/** The term definition that makes an alias mean the field. */
function definitionOf (field: Field): Json {
  return DATE_FIELDS.includes(field) ? { '@id': VC + field, '@type': XSD_DATETIME } : { '@id': VC + field, '@type': '@id' }
}

/** The field's value as an expanded-form value under its IRI key. */
const expandedValue = (field: Field, value: unknown): unknown => DATE_FIELDS.includes(field) ? { '@value': value, '@type': XSD_DATETIME } : value

function without (doc: Json, field: string): Json {
  const { [field]: _, ...rest } = doc
  return rest
}

const withContext = (doc: Json, definitions: Json): Json => ({ ...doc, '@context': [...[doc['@context']].flat(), definitions] })

const has = (doc: Json, field: Field): boolean => doc[field] !== undefined && !('@graph' in doc)
const isDate = (field: Field): boolean => DATE_FIELDS.includes(field)
const included = (doc: Json, node: Json | Json[]): Json => ({ ...doc, '@included': [...[doc['@included'] ?? []].flat(), ...[node].flat()] })
const listOf = (value: unknown): Json[] => (Array.isArray(value) ? value : [value]) as Json[]

export const REWRITES: readonly Rewrite[] = [
  {
    name: 'the field under its expanded IRI',
    applies: has,
    apply: (doc, field) => ({ ...without(doc, field), [VC + field]: expandedValue(field, doc[field]) })
  },
  {
    name: 'the field under an alias from an inline context',
    applies: has,
    apply: (doc, field) => ({ ...withContext(without(doc, field), { [`aka_${field}`]: definitionOf(field) }), [`aka_${field}`]: doc[field] })
  },
  {
    name: 'the field inside an @nest from an inline context',
    applies: has,
    apply: (doc, field) => ({ ...withContext(without(doc, field), { [`meta_${field}`]: '@nest' }), [`meta_${field}`]: { [field]: doc[field] } })
  },
  {
    name: 'the field in an @included node object with the credential\'s id',
    applies: (doc, field) => has(doc, field) && typeof doc.id === 'string',
    apply: (doc, field) => included(without(doc, field), { id: doc.id, type: ['VerifiableCredential'], [field]: doc[field] })
  },
  {
    name: 'the status entries (or issuer) pointing back with @reverse',
    applies: (doc, field) => has(doc, field) && !isDate(field) && typeof doc.id === 'string',
    apply: (doc, field) => included(without(doc, field), listOf(field === 'issuer' && typeof doc.issuer === 'string' ? { id: doc.issuer } : doc[field])
      .map((node) => ({ ...node, '@reverse': { [VC + field]: { id: doc.id } } })))
  },
  {
    name: 'the whole credential wrapped in @graph',
    applies: (doc) => !('@graph' in doc),
    apply: (doc) => ({ '@context': doc['@context'], '@graph': [without(doc, '@context')] })
  },
  {
    name: 'the field under a property-scoped context of an inline term',
    applies: (doc, field) => has(doc, field) && typeof doc.id === 'string',
    apply: (doc, field) => ({
      ...withContext(without(doc, field), { [`wrap_${field}`]: { '@id': `${EX}wrap`, '@context': { inner: definitionOf(field) } } }),
      [`wrap_${field}`]: { id: doc.id, inner: doc[field] }
    })
  },
  {
    name: 'the field under a type-scoped context of an inline type',
    applies: has,
    apply: (doc, field) => ({
      ...withContext(without(doc, field), { [`Holder_${field}`]: { '@id': `${EX}Holder`, '@context': { [`inner_${field}`]: definitionOf(field) } } }),
      type: [...listOf(doc.type), `Holder_${field}`],
      [`inner_${field}`]: doc[field]
    })
  },
  {
    name: 'the date as a value object with @type',
    applies: (doc, field) => has(doc, field) && isDate(field) && typeof doc[field] === 'string',
    apply: (doc, field) => ({ ...doc, [field]: { '@value': doc[field], '@type': XSD_DATETIME } })
  },
  {
    name: 'the date as a value object with @language',
    applies: (doc, field) => has(doc, field) && isDate(field) && typeof doc[field] === 'string',
    apply: (doc, field) => ({ ...doc, [field]: { '@value': doc[field], '@language': 'en' } })
  },
  {
    name: 'the field restated in refreshService, which carries the credential\'s id (no keyword at all)',
    applies: (doc, field) => has(doc, field) && typeof doc.refreshService === 'object' && doc.refreshService?.id === doc.id,
    apply: (doc, field) => ({ ...without(doc, field), refreshService: { ...doc.refreshService, type: [...listOf(doc.refreshService.type), 'VerifiableCredential'], [field]: doc[field] } })
  },
  {
    name: 'the field restated in an evidence node with the credential\'s id',
    applies: (doc, field) => has(doc, field) && typeof doc.id === 'string',
    apply: (doc, field) => ({ ...without(doc, field), evidence: [...listOf(doc.evidence ?? []), { id: doc.id, type: ['VerifiableCredential'], [field]: doc[field] }] })
  }
]

/** A decoy value that would make the credential look better, for the duplicated-key rewrite. */
export function decoyOf (field: Field): unknown {
  if (field === 'validUntil') return '2099-01-01T00:00:00Z'
  if (field === 'validFrom') return '2000-01-01T00:00:00Z'
  if (field === 'credentialStatus') return []
  return { id: 'https://attacker.example/issuer', type: ['Profile'], name: 'Attacker' }
}

/**
 * The document as JSON text with `field` written twice at the top level: a
 * decoy before the real value (parsers keep the last: the same credential) or
 * after it (the decoy wins: a changed credential).
 */
export function withDuplicatedKey (text: string, field: Field, where: 'before' | 'after'): string {
  const duplicate = `${JSON.stringify(field)}:${JSON.stringify(decoyOf(field))}`
  return where === 'before' ? `{${duplicate},${text.slice(1)}` : `${text.slice(0, -1)},${duplicate}}`
}

/** Signs the rewritten document (its old proof removed) with the issuer's own Data Integrity key. */
export async function resignDataIntegrity (doc: Json, key: IssuerSigningKeys['dataIntegrity'], now: Date): Promise<Json> {
  const { proof: _, ...unsigned } = doc
  const suite = new DataIntegrityProof({ signer: key.keyPair.signer(), cryptosuite: eddsaRdfc2022, date: now.toISOString() })
  return await jsigs.sign(structuredClone(unsigned), { suite, purpose: new jsigs.purposes.AssertionProofPurpose(), documentLoader: staticDocumentLoader }) as Json
}

/**
 * Signs a VC-JWT whose payload is the rewritten credential's JSON text with
 * the original token's registered claims (`iss`, `jti`, `nbf`, `exp`, `iat`),
 * with the issuer's own JWT key.
 */
export async function resignJwt (credentialText: string, originalJwt: string, key: IssuerSigningKeys['jwt']): Promise<string> {
  const claims = JSON.parse(Buffer.from(originalJwt.split('.')[1]!, 'base64url').toString('utf8')) as Json
  const registered = Object.fromEntries(['iss', 'jti', 'nbf', 'exp', 'iat'].filter((k) => claims[k] !== undefined).map((k) => [k, claims[k]]))
  const text = `${credentialText.slice(0, -1)}${credentialText.length > 2 ? ',' : ''}${JSON.stringify(registered).slice(1)}`
  return await new CompactSign(new TextEncoder().encode(text)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey)
}
