/**
 * The four scopes of the 1EdTech Open Badges 3.0 API (OB 3.0 §6.2), what each
 * lets a platform do, in the words the consent page shows a holder.
 */
export const OB_SCOPE = {
  credentialReadonly: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly',
  credentialUpsert: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert',
  profileReadonly: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly',
  profileUpdate: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update'
} as const

export type ObScope = typeof OB_SCOPE[keyof typeof OB_SCOPE]

export const OB_SCOPES: readonly ObScope[] = Object.values(OB_SCOPE)

export const OB_SCOPE_WORDS: Readonly<Record<ObScope, string>> = {
  [OB_SCOPE.credentialReadonly]: 'See your badges from this service and the badges you keep here',
  [OB_SCOPE.credentialUpsert]: 'Add badges from other issuers to the badges you keep here',
  [OB_SCOPE.profileReadonly]: 'See your name and email address',
  [OB_SCOPE.profileUpdate]: 'Ask for changes to your profile (name and email changes go to staff for review)'
}

/** Who a valid access token acts for, and what it may do. */
export interface ObAccess {
  /** The holder's email address, lower-cased: the portal's account. */
  holderEmail: string
  clientId: string
  scopes: ReadonlySet<string>
}
