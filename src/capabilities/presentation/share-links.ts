/** Where a holder shares a credential: LinkedIn's "Add to profile", share dialogs, email. */

export interface ShareInput {
  credentialUrl: string
  /** The short id (the last segment of the URL): LinkedIn's "Credential ID". */
  credentialId: string
  achievementName: string
  issuerName: string
  linkedInOrganizationId?: string
  /** RFC 3339: the award (issue) date and the end of the current period. */
  issued?: string
  expires?: string
}

export interface ShareLinks {
  linkedInAddToProfile: string
  /** The same, through this service's counted redirect (GET /credentials/:id/share/linkedin, issue 25). */
  linkedInAddToProfileCounted: string
  linkedInShare: string
  x: string
  facebook: string
  email: string
}

const link = (base: string, params: Array<[string, string | undefined]>): string =>
  base + params.filter((p): p is [string, string] => p[1] !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')

/** Year and 1-based month, in UTC (LinkedIn's form fields). */
function yearMonth (iso: string | undefined): { year?: string, month?: string } {
  if (iso === undefined || Number.isNaN(Date.parse(iso))) return {}
  const date = new Date(iso)
  return { year: String(date.getUTCFullYear()), month: String(date.getUTCMonth() + 1) }
}

/** LinkedIn's "Add to profile" form, filled in with the credential. */
export function linkedInAddToProfileUrl (input: ShareInput): string {
  const issued = yearMonth(input.issued)
  const expires = yearMonth(input.expires)
  return link('https://www.linkedin.com/profile/add?', [
    ['startTask', 'CERTIFICATION_NAME'],
    ['name', input.achievementName],
    ...(input.linkedInOrganizationId !== undefined
      ? [['organizationId', input.linkedInOrganizationId] as [string, string]]
      : [['organizationName', input.issuerName] as [string, string]]),
    ['issueYear', issued.year],
    ['issueMonth', issued.month],
    ['expirationYear', expires.year],
    ['expirationMonth', expires.month],
    ['certUrl', input.credentialUrl],
    ['certId', input.credentialId]
  ])
}

export function shareLinks (input: ShareInput): ShareLinks {
  const text = `${input.achievementName}, issued by ${input.issuerName}`
  return {
    linkedInAddToProfile: linkedInAddToProfileUrl(input),
    linkedInAddToProfileCounted: `${input.credentialUrl}/share/linkedin`,
    linkedInShare: link('https://www.linkedin.com/sharing/share-offsite/?', [['url', input.credentialUrl]]),
    x: link('https://x.com/intent/post?', [['text', text], ['url', input.credentialUrl]]),
    facebook: link('https://www.facebook.com/sharer/sharer.php?', [['u', input.credentialUrl]]),
    email: link('mailto:?', [['subject', text], ['body', `${text}: ${input.credentialUrl}`]])
  }
}
