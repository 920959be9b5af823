import t from 'tap'
import { noticeFor } from '../../src/capabilities/verification/notice.js'
import { deriveStatus, failed, passed, unknown, type Check } from '../../src/capabilities/verification/result.js'

const ok = (id: Check['id']): Check => passed(id, 'fine')

t.test('the status is valid only when every check passed', async (t) => {
  t.equal(deriveStatus([ok('format'), ok('proof')]), 'valid')
})

t.test('any unknown without a failure is indeterminate, never valid', async (t) => {
  t.equal(deriveStatus([ok('format'), unknown('status', 'list unreachable')]), 'indeterminate')
})

t.test('the most serious outcome wins: invalid, revoked, expired, not_yet_valid, indeterminate', async (t) => {
  const invalid = failed('proof', 'bad signature')
  const revoked = failed('status', 'revoked', 'revoked')
  const expired = failed('validity_period', 'expired', 'expired')
  const early = failed('validity_period', 'early', 'not_yet_valid')
  const unsure = unknown('key_binding', 'offline')
  t.equal(deriveStatus([unsure, early, expired, revoked, invalid]), 'invalid')
  t.equal(deriveStatus([unsure, early, expired, revoked]), 'revoked')
  t.equal(deriveStatus([unsure, expired]), 'expired')
  t.equal(deriveStatus([unsure, early]), 'not_yet_valid')
})

t.test('notices read as sentences, with UTC dates and the right noun', async (t) => {
  const cma = { achievement: { name: 'CMA (AAMA)', achievementType: 'Certification' }, issuer: { name: 'AAMA' }, validUntil: '2026-03-31T23:30:00-02:00' }
  t.equal(noticeFor('expired', cma, ''), 'This CMA (AAMA) certification expired on 1 April 2026.', 'dates are formatted in UTC')
  t.equal(noticeFor('revoked', { achievement: { name: 'Teamwork' }, issuer: { id: 'https://x.example' } }, ''), 'This Teamwork badge was revoked by https://x.example.')
  t.equal(noticeFor('indeterminate', {}, 'The status list at https://l.example could not be retrieved'), 'This badge could not be verified: the status list at https://l.example could not be retrieved.')
  t.equal(noticeFor('valid', cma, ''), undefined)
})
