import jsonld from 'jsonld'
import { staticDocumentLoader } from '../jsonld/document-loader.js'
import { isObject } from '../json.js'
import { asArray, issuerId } from './credential-fields.js'

/**
 * A Data Integrity proof signs the JSON-LD meaning of a credential (its RDF
 * graph), not its JSON keys. The same graph can be written with a field under
 * its expanded IRI (`"https://www.w3.org/2018/credentials#validUntil"`), an
 * alias or an `@nest` from an inline `@context`, or split between the plain
 * key and an IRI key; the signature still verifies, but a check that reads
 * `credential.validUntil` no longer sees it.
 *
 * Hiding a field is the only rewrite that keeps the signature, so the danger
 * is a field the checks read as absent (or partly absent) while the proof
 * signs it: an expiry date or a status entry. The credential is therefore
 * expanded once (safe mode, offline contexts) and, for every field whose
 * absence would make it look better, the signed values must be exactly what
 * the plain JSON says. Fields whose absence makes a check fail (validFrom,
 * issuer, type) fail closed by themselves, but are compared too.
 */

type Json = Record<string, unknown>

const VC = 'https://www.w3.org/2018/credentials#'

/** The compared fields: the plain reading and the IRI its signed statement uses. */
const DATE_FIELDS = ['validFrom', 'validUntil', 'issuanceDate', 'expirationDate'] as const

const valuesOf = (node: Json, iri: string): Json[] => asArray(node[iri]).filter(isObject)

/**
 * The fields whose plain JSON reading differs from what the proof signed;
 * empty when the credential says what it signed.
 */
export async function fieldsDifferingFromSignedMeaning (credential: Json): Promise<string[]> {
  const { proof: _, ...unsigned } = credential
  const expanded = await jsonld.expand(unsigned, { documentLoader: staticDocumentLoader, base: null, safe: true })
  const nodes = expanded.filter((node): node is Json => isObject(node) && asArray(node['@type']).includes(`${VC}VerifiableCredential`))
  if (nodes.length !== 1) return [`the document describes ${nodes.length} credentials`]
  const signed = nodes[0]!
  const differing: string[] = []

  for (const field of DATE_FIELDS) {
    const signedValues = valuesOf(signed, VC + field).map((v) => v['@value'])
    const plain = unsigned[field]
    const plainValues = plain === undefined ? [] : [plain]
    if (JSON.stringify(signedValues) !== JSON.stringify(plainValues)) differing.push(field)
  }

  const signedIssuers = valuesOf(signed, `${VC}issuer`).map((v) => v['@id'])
  const plainIssuer = issuerId(unsigned)
  if (signedIssuers.length !== 1 || signedIssuers[0] !== plainIssuer) differing.push('issuer')

  // Entries can be hidden whole, or split between the plain key and an IRI key.
  const signedEntries = valuesOf(signed, `${VC}credentialStatus`).length
  const plainEntries = asArray(unsigned.credentialStatus).length
  if (signedEntries !== plainEntries) differing.push(`credentialStatus (${signedEntries} signed, ${plainEntries} in plain JSON)`)

  return differing
}
