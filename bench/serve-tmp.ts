import { startBenchService } from './harness.js'
import { writeFileSync } from 'node:fs'
const service = await startBenchService({ RATE_LIMIT_LOOKUP_PER_MINUTE: '1000000', RATE_LIMIT_VERIFY_PER_MINUTE: '1000000', MAX_EVENT_LOOP_DELAY_MS: '0' })
const issued = await (await fetch(`${service.address}/api/v1/credentials`, { method: 'POST', headers: service.headers, body: JSON.stringify({ achievementId: service.achievementId, recipient: { name: 'Jane', email: 'jane@example.org' } }) })).json() as { url: string }
writeFileSync('/tmp/serve-url', `${service.address}${new URL(issued.url).pathname}`)
process.on('SIGTERM', () => { void service.close().then(() => process.exit(0)) })
