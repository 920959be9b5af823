/**
 * What the bench reads from Linux's /proc: process trees, CPU time and peak
 * memory, so each scenario's figures can say what it cost the service and
 * PostgreSQL in CPU (comparable across machines, unlike req/s alone).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 nearly everywhere). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

interface Stat { pid: number, comm: string, state: string, ppid: number, cpuTicks: number }

/** One process's /proc/<pid>/stat, or undefined when it is gone (processes come and go while we read). */
function readStat (pid: number): Stat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // comm is in parentheses and may hold spaces or parentheses itself: split after the last ')'.
  const close = text.lastIndexOf(')')
  const fields = text.slice(close + 2).split(' ')
  // Fields from 3 (state): ppid is 4, utime 14, stime 15, cutime 16, cstime 17 (man 5 proc).
  // cutime and cstime hold the CPU of children that exited and were waited for, so a worker
  // or PostgreSQL backend that ends during a measurement still counts, in its parent.
  const at = (field: number): number => Number(fields[field - 3] ?? 0)
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), state: fields[0] ?? '?', ppid: at(4), cpuTicks: at(14) + at(15) + at(16) + at(17) }
}

function allStats (): Stat[] {
  const stats: Stat[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(Number(name))
    if (stat !== undefined) stats.push(stat)
  }
  return stats
}

/** `root` and every process descending from it (a cluster's workers, PostgreSQL's backends). */
export function processTree (root: number): number[] {
  const stats = allStats()
  const tree = new Set([root])
  // Parents before children is not guaranteed by pid order: repeat until nothing is added.
  for (let grew = true; grew;) {
    grew = false
    for (const s of stats) {
      if (!tree.has(s.pid) && tree.has(s.ppid)) { tree.add(s.pid); grew = true }
    }
  }
  return [...tree].filter((pid) => stats.some((s) => s.pid === pid))
}

/** Every process named `comm` (an external PostgreSQL on this machine: all `postgres` processes). */
export function processesNamed (comm: string): number[] {
  return allStats().filter((s) => s.comm === comm).map((s) => s.pid)
}

/** CPU seconds (user + system, with waited-for children) of these processes so far. */
export function cpuSeconds (pids: number[]): number {
  let ticks = 0
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0
  return ticks / TICKS_PER_SECOND
}

/** Running, not a zombie waiting for its parent. */
export function isAlive (pid: number): boolean {
  const state = readStat(pid)?.state
  return state !== undefined && state !== 'Z'
}

export interface Memory { pid: number, comm: string, rssMiB: number, peakMiB: number, threads: number }

/** VmRSS, VmHWM (the peak resident set) and thread count of a process, if it is still there. */
export function memory (pid: number): Memory | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kib = (key: string): number => Number(text.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0)
  // Which script a node process runs (server.js, worker.js) says more than its name, "node".
  let script: string | undefined
  try {
    script = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => /\.[cm]?[jt]s$/.test(a)).at(-1)?.split('/').at(-1)
  } catch {}
  return { pid, comm: script ?? text.match(/Name:\s+(\S+)/)?.[1] ?? '?', rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024, threads: kib('Threads') }
}

/**
 * CPU used by a changing set of processes between start and stop: `pids` is asked at both
 * ends, so processes born during the window count in full and those that ended count
 * through their parent's cutime/cstime.
 */
export function cpuMeter (pids: () => number[]): () => number {
  const before = cpuSeconds(pids())
  return () => cpuSeconds(pids()) - before
}
