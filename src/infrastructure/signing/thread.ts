import { createTaskRunner } from './tasks.js'

/**
 * A Data Integrity worker thread's entry (piscina calls the default export
 * with each task). The runner, with its imported signers, lives as long as
 * the thread; the pool that started the thread ends it.
 */
export default createTaskRunner()
