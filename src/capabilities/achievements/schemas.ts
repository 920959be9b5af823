import type { FromSchema } from 'json-schema-to-ts'
import { ID_PATTERN } from '../../kernel/ids.js'

/** The OB 3.0 AchievementType vocabulary; "ext:" names extend it. */
export const ACHIEVEMENT_TYPES = ['Achievement', 'ApprenticeshipCertificate', 'Assessment', 'Assignment', 'AssociateDegree', 'Award', 'Badge', 'BachelorDegree', 'Certificate', 'CertificateOfCompletion', 'Certification', 'CommunityService', 'Competency', 'Course', 'CoCurricular', 'Degree', 'Diploma', 'DoctoralDegree', 'Fieldwork', 'GeneralEducationDevelopment', 'JourneymanCertificate', 'LearningProgram', 'License', 'Membership', 'ProfessionalDoctorate', 'QualityAssuranceCredential', 'MasterCertificate', 'MasterDegree', 'MicroCredential', 'ResearchDoctorate', 'SecondarySchoolDiploma'] as const

const httpUrl = { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 } as const

const points = { type: 'integer', minimum: 0, maximum: 10000 } as const

/** The recertification rules (see credentials/recertification-rules.ts). */
export const recertificationPolicy = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    continuingEducation: {
      type: 'object',
      additionalProperties: false,
      required: ['minPoints'],
      properties: {
        minPoints: { ...points, minimum: 1 },
        minApprovedPoints: points,
        graceMonths: { type: 'integer', minimum: 0, maximum: 120 },
        window: { type: 'string', enum: ['certification_period'], description: 'Points count when completed within the current certification period (the only window)' }
      }
    },
    exam: { type: 'boolean' },
    renewalFee: {
      type: 'object',
      additionalProperties: false,
      required: ['amount', 'currency'],
      description: 'The body\'s renewal fee, shown to holders; the service takes no payment',
      properties: {
        amount: { type: 'number', minimum: 0, maximum: 100000 },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        reference: { type: 'string', minLength: 1, maxLength: 500, description: 'Where or how the fee is paid (a URL or a sentence)' }
      }
    }
  }
} as const

export const recertificationPolicyBody = {
  examples: [{ recertification: { continuingEducation: { minPoints: 10 } } }, { recertification: null }],
  type: 'object',
  additionalProperties: false,
  required: ['recertification'],
  properties: { recertification: { anyOf: [recertificationPolicy, { type: 'null' }] } }
} as const

/** What a definition is made of; POST requires name, description and criteria, PATCH changes any of them. */
const definitionProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
  description: { type: 'string', minLength: 1, maxLength: 5000, pattern: '\\S' },
  criteria: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      id: httpUrl,
      narrative: { type: 'string', minLength: 1, maxLength: 20000 }
    }
  },
  image: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: { type: 'string', format: 'uri', pattern: '^(https?://|data:image/)', maxLength: 262144, description: 'A data:image/ URI, stored as given; or an https URL, fetched once now and stored as a data: URI (PNG or SVG, at most 128 KiB)' },
      caption: { type: 'string', maxLength: 500 }
    }
  },
  achievementType: {
    anyOf: [
      { type: 'string', enum: ACHIEVEMENT_TYPES },
      { type: 'string', pattern: '^ext:[A-Za-z0-9._-]+$', maxLength: 100 }
    ]
  },
  validityMonths: { type: 'integer', minimum: 1, maximum: 1200 },
  recertification: recertificationPolicy
} as const

export const createAchievementBody = {
  examples: [{ name: 'CMA (AAMA)', description: 'Certified Medical Assistant (AAMA).', criteria: { narrative: 'Passed the CMA (AAMA) Certification Exam.' }, achievementType: 'Certification', validityMonths: 60, recertification: { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true } }],
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'criteria'],
  properties: {
    ...definitionProperties,
    issuerId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }
  }
} as const

/**
 * A partial edit: the fields given replace the current ones; null removes an
 * optional one (image, achievementType, validityMonths, recertification).
 * The issuer cannot change: the achievement's credentials are signed by it.
 */
export const editAchievementBody = {
  examples: [{ description: 'Certified Medical Assistant (AAMA), recognised nationally.' }, { image: { id: 'https://www.aama-ntl.org/badges/cma.png', caption: 'CMA (AAMA) seal' } }, { validityMonths: 36, recertification: null }],
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: definitionProperties.name,
    description: definitionProperties.description,
    criteria: definitionProperties.criteria,
    image: { anyOf: [definitionProperties.image, { type: 'null' }] },
    achievementType: { anyOf: [...definitionProperties.achievementType.anyOf, { type: 'null' }] },
    validityMonths: { anyOf: [definitionProperties.validityMonths, { type: 'null' }] },
    recertification: { anyOf: [recertificationPolicy, { type: 'null' }] }
  }
} as const

export type EditAchievementBody = FromSchema<typeof editAchievementBody>

export type CreateAchievementBody = FromSchema<typeof createAchievementBody>

export { idParams as achievementIdParams } from '../../infrastructure/http/id-params.js'

export const listAchievementsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    after: { type: 'string', pattern: ID_PATTERN },
    archived: { type: 'boolean', description: 'true: only archived achievements; false: only those in use; absent: all' }
  }
} as const

export type ListAchievementsQuery = FromSchema<typeof listAchievementsQuery>
