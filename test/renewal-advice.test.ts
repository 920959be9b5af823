/**
 * The one renewal-advice function every rendering words its advice from:
 * a table over the states a credential can be in, under the rules an
 * achievement can have.
 */
import t from 'tap'
import { renewalAdvice } from '../src/capabilities/achievements/renewal-advice.js'
import type { RecertificationPolicy } from '../src/capabilities/achievements/recertification-rules.js'

const CMA: RecertificationPolicy = { continuingEducation: { minPoints: 60, minApprovedPoints: 30, graceMonths: 3 }, exam: true }
const EXAM_ONLY: RecertificationPolicy = { exam: true }
const CE_ONLY_BEFORE_EXPIRY: RecertificationPolicy = { continuingEducation: { minPoints: 10 }, exam: false }
const VALID_UNTIL = '2026-10-20T00:00:00Z'
const EXAM = 'by passing the certification exam again'

const rows: Array<{ name: string, policy: RecertificationPolicy | null, validUntil?: string, now: string, state: string, ceUntil?: string, sentence?: string }> = [
  { name: 'valid, CMA rules', policy: CMA, validUntil: VALID_UNTIL, now: '2026-06-01T00:00:00Z', state: 'valid', ceUntil: '2027-01-20T23:59:59.000Z', sentence: `It can be renewed by continuing education until 20 January 2027, or ${EXAM}.` },
  { name: 'the last second of validity is still valid', policy: CMA, validUntil: VALID_UNTIL, now: VALID_UNTIL, state: 'valid', ceUntil: '2027-01-20T23:59:59.000Z', sentence: `It can be renewed by continuing education until 20 January 2027, or ${EXAM}.` },
  { name: 'expired, inside the grace window', policy: CMA, validUntil: VALID_UNTIL, now: '2026-12-04T12:00:00Z', state: 'in_grace', ceUntil: '2027-01-20T23:59:59.000Z', sentence: `It can still be renewed by continuing education until 20 January 2027; after that, only ${EXAM}.` },
  { name: 'the window closes inclusively: the whole of its last day', policy: CMA, validUntil: VALID_UNTIL, now: '2027-01-20T23:59:59Z', state: 'in_grace', ceUntil: '2027-01-20T23:59:59.000Z', sentence: `It can still be renewed by continuing education until 20 January 2027; after that, only ${EXAM}.` },
  { name: 'expired, after the window', policy: CMA, validUntil: VALID_UNTIL, now: '2027-01-21T00:00:00Z', state: 'lapsed', sentence: `Renewal by continuing education closed on 20 January 2027. It can be renewed ${EXAM}.` },
  { name: 'no rules, valid', policy: null, validUntil: VALID_UNTIL, now: '2026-06-01T00:00:00Z', state: 'valid', sentence: `It can be renewed ${EXAM}.` },
  { name: 'no rules, expired', policy: null, validUntil: VALID_UNTIL, now: '2026-12-04T00:00:00Z', state: 'lapsed', sentence: `It can be renewed ${EXAM}.` },
  { name: 'exam only, expired', policy: EXAM_ONLY, validUntil: VALID_UNTIL, now: '2026-12-04T00:00:00Z', state: 'lapsed', sentence: `It can be renewed ${EXAM}.` },
  { name: 'continuing education only, valid', policy: CE_ONLY_BEFORE_EXPIRY, validUntil: VALID_UNTIL, now: '2026-06-01T00:00:00Z', state: 'valid', ceUntil: '2026-10-20T23:59:59.000Z', sentence: 'It can be renewed by continuing education until 20 October 2026.' },
  { name: 'continuing education only, expired: nothing left', policy: CE_ONLY_BEFORE_EXPIRY, validUntil: VALID_UNTIL, now: '2026-10-21T00:00:00Z', state: 'lapsed', sentence: 'Renewal by continuing education closed on 20 October 2026. It can no longer be renewed.' },
  { name: 'never expires', policy: CMA, now: '2026-06-01T00:00:00Z', state: 'no_expiry' }
]

for (const row of rows) {
  t.test(row.name, async (t) => {
    const advice = renewalAdvice({ policy: row.policy, validUntil: row.validUntil, now: new Date(row.now) })
    t.equal(advice.state, row.state)
    t.equal(advice.continuingEducationUntil?.toISOString(), row.ceUntil)
    t.equal(advice.sentence, row.sentence)
  })
}

t.test('the grace window follows month ends (addMonths), as recertification does', async (t) => {
  const advice = renewalAdvice({ policy: CMA, validUntil: '2026-11-30T00:00:00Z', now: new Date('2027-02-28T00:00:00Z') })
  t.equal(advice.continuingEducationUntil?.toISOString(), '2027-02-28T23:59:59.000Z')
  t.equal(advice.state, 'in_grace')
})
