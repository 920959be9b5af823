// Starts an embedded PostgreSQL in the folder given as argument, prints
// "ready <url>" and waits: the test kills this process with SIGKILL, as an
// operator's `kill -9` of the service would, orphaning the postmaster.
import { startEmbeddedPostgres } from '../../src/infrastructure/db/embedded.js'

const database = await startEmbeddedPostgres(process.argv[2]!, { throwaway: true })
console.log(`ready ${database.url}`)
setInterval(() => {}, 1000)
