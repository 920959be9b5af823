/**
 * The folder-level half of the layer rule (`npm run lint`): dependency-cruiser
 * (.dependency-cruiser.cjs) checks each import against the layers; this
 * collapses the import graph to folders (src/<layer>/<folder>, and
 * src/<layer> for files at a layer's top) and fails on any cycle between
 * them, printing the folder graph. `--graph` prints it even when it passes.
 */
import { cruise, type ICruiseResult } from 'dependency-cruiser'

const result = await cruise(['src'], {
  tsPreCompilationDeps: true,
  doNotFollow: { path: 'node_modules' },
  exclude: { path: ['node_modules', '^dist/'] }
}, { extensions: ['.ts', '.js', '.mjs'] }, { tsConfig: { fileName: 'tsconfig.json' } } as never)
const output = result.output as ICruiseResult

/** The folder a module belongs to: two levels under src/ for layered code, the file itself for composition. */
function folderOf (path: string): string | undefined {
  if (!path.startsWith('src/')) return undefined
  const parts = path.split('/')
  if (parts.length <= 2) return 'src (composition)'
  if (parts[1] === 'cli') return 'src/cli'
  return parts.length === 3 ? `src/${parts[1]!}` : `src/${parts[1]!}/${parts[2]!}`
}

const edges = new Map<string, Set<string>>()
for (const module of output.modules) {
  const from = folderOf(module.source)
  if (from === undefined) continue
  if (!edges.has(from)) edges.set(from, new Set())
  for (const dependency of module.dependencies) {
    const to = folderOf(dependency.resolved)
    if (to !== undefined && to !== from) edges.get(from)!.add(to)
  }
}

// Tarjan's strongly connected components: a component of more than one folder is a cycle.
let index = 0
const indices = new Map<string, number>()
const lowlinks = new Map<string, number>()
const stack: string[] = []
const onStack = new Set<string>()
const cycles: string[][] = []
function connect (v: string): void {
  indices.set(v, index)
  lowlinks.set(v, index++)
  stack.push(v)
  onStack.add(v)
  for (const w of edges.get(v) ?? []) {
    if (!indices.has(w)) {
      connect(w)
      lowlinks.set(v, Math.min(lowlinks.get(v)!, lowlinks.get(w)!))
    } else if (onStack.has(w)) lowlinks.set(v, Math.min(lowlinks.get(v)!, indices.get(w)!))
  }
  if (lowlinks.get(v) === indices.get(v)) {
    const component: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1) cycles.push(component.sort())
  }
}
for (const v of edges.keys()) if (!indices.has(v)) connect(v)

if (process.argv.includes('--graph') || cycles.length > 0) {
  for (const [from, to] of [...edges].sort(([a], [b]) => a.localeCompare(b))) console.log(`${from} -> ${[...to].sort().join(', ') || '(nothing of ours)'}`)
}
if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`folder cycle: ${cycle.join(' <-> ')}`)
  process.exit(1)
}
console.log(`layers: ${edges.size} folders, no cycles between them`)
