// Worker-thread entry when the service runs from its TypeScript sources
// (npm start, npm test, the benches): registers tsx in this thread, whatever
// way the main thread got it, then hands over to thread.ts. The build (dist/)
// starts its threads on thread.js directly.
import { register } from 'tsx/esm/api'

register()
const thread = await import('./thread.ts')
export default thread.default
