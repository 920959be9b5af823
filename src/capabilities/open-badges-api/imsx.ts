/**
 * Errors of the Open Badges 3.0 API as the 1EdTech REST binding has them: an
 * Imsx_StatusInfo document (OB 3.0 §6.3; the OpenAPI file's
 * components.schemas.Imsx_StatusInfo), never application/problem+json, so a
 * certified platform reads every refusal of /ims/ob/v3p0 the same way.
 */

/** imsx_codeMinorFieldValue, exactly the spec's enumeration. */
export type ImsxCodeMinor =
  | 'forbidden' | 'fullsuccess' | 'internal_server_error' | 'invalid_data' | 'invalid_query_parameter'
  | 'misdirected_request' | 'not_acceptable' | 'not_allowed' | 'not_found' | 'not_modified'
  | 'server_busy' | 'unauthorizedrequest' | 'unknown'

export interface ImsxStatusInfo {
  imsx_codeMajor: 'failure' | 'processing' | 'success' | 'unsupported'
  imsx_severity: 'error' | 'status' | 'warning'
  imsx_description?: string
  imsx_codeMinor?: { imsx_codeMinorField: Array<{ imsx_codeMinorFieldName: string, imsx_codeMinorFieldValue: ImsxCodeMinor }> }
}

/** The system that reports the code minor: the spec's examples name the target end system. */
const FIELD_NAME = 'TargetEndSystem'

/** The status info for an answer: failure/error for refusals, processing/status for a 202, success/status otherwise. */
export function imsxStatus (codeMajor: ImsxStatusInfo['imsx_codeMajor'], codeMinor: ImsxCodeMinor, description: string): ImsxStatusInfo {
  return {
    imsx_codeMajor: codeMajor,
    imsx_severity: codeMajor === 'failure' || codeMajor === 'unsupported' ? 'error' : 'status',
    imsx_description: description,
    imsx_codeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldName: FIELD_NAME, imsx_codeMinorFieldValue: codeMinor }] }
  }
}

/** The code minor each refusal status carries. */
const MINOR_FOR_STATUS: Record<number, ImsxCodeMinor> = {
  400: 'invalid_data',
  401: 'unauthorizedrequest',
  403: 'forbidden',
  404: 'not_found',
  405: 'not_allowed',
  406: 'not_acceptable',
  413: 'invalid_data',
  415: 'invalid_data',
  429: 'server_busy',
  500: 'internal_server_error',
  503: 'server_busy'
}

/**
 * A refusal of the Open Badges API: its HTTP status and the Imsx document
 * the API's error handler sends. Thrown by use cases and handlers alike.
 */
export class ImsxError extends Error {
  readonly statusCode: number
  readonly codeMinor: ImsxCodeMinor
  readonly headers: Readonly<Record<string, string>>

  constructor (statusCode: number, description: string, options: { codeMinor?: ImsxCodeMinor, headers?: Record<string, string> } = {}) {
    super(description)
    this.name = 'ImsxError'
    this.statusCode = statusCode
    this.codeMinor = options.codeMinor ?? minorForStatus(statusCode)
    this.headers = options.headers ?? {}
  }

  get body (): ImsxStatusInfo {
    return imsxStatus('failure', this.codeMinor, this.message)
  }
}

export function minorForStatus (status: number): ImsxCodeMinor {
  return MINOR_FOR_STATUS[status] ?? (status >= 500 ? 'internal_server_error' : 'invalid_data')
}

/** The shared schema of every Imsx answer (installed by infrastructure/http/api-contract.ts). */
export const imsxRef = { $ref: 'Imsx_StatusInfo#' } as const
