import { test } from 'tap'
import { stateHash, tokenSealer } from '../../src/capabilities/open-badges-consumer/sealed.js'
import { freshDatabase } from '../helpers/database.js'

test('tokens are sealed with AES-256-GCM: a fresh IV each time, opened only unaltered, with the service secret of the database', async (t) => {
  const db = await freshDatabase()
  t.teardown(db.drop)
  const sealer = await tokenSealer(db.sql)
  const token = 'eyJhbGciOi.access-token_value-123'
  const one = sealer.seal(token)
  const two = sealer.seal(token)
  t.not(one.toString('hex'), two.toString('hex'), 'a random IV per value')
  t.notOk(one.includes(Buffer.from(token)), 'nothing of the token in clear')
  t.equal(one.length, 12 + 16 + Buffer.byteLength(token), 'iv, tag, ciphertext')
  t.equal(sealer.open(one), token)
  t.equal((await tokenSealer(db.sql)).open(two), token, 'another sealer of the same database opens it')
  const altered = Buffer.from(one)
  altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 1
  t.throws(() => sealer.open(altered), 'an altered value does not open')
  const other = await freshDatabase()
  t.teardown(other.drop)
  const elsewhere = await tokenSealer(other.sql)
  t.throws(() => elsewhere.open(one), 'another database\'s secret does not open it')
  t.equal(stateHash('abc').length, 32, 'the state is kept as its SHA-256')
})
