// Worker-thread entry when the service runs from its TypeScript sources
// (npm start, npm test, the benches): registers tsx in this thread, whatever
// way the main thread got it, then hands over to tasks.ts. The build (dist/)
// starts its threads on tasks.js directly.
import { register } from 'tsx/esm/api'

register()
const tasks = await import('./tasks.ts')
export default tasks.default
