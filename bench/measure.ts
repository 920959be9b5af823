/**
 * What one stretch of a bench cost: wall time, CPU of the service's process tree, of
 * PostgreSQL and of this process (the load generator), and the service's largest resident set.
 */
import type { BenchDatabase } from './database.js'
import { cpuMeter } from './proc.js'
import type { RunningService } from './service.js'

export interface Measured<T> { result: T, seconds: number, serviceCpu: number, postgresCpu: number, generatorCpu: number, rssMiB: number }

/** Largest VmRSS among the service's processes while `during` runs, sampled every 100 ms. */
export async function peakRss<T> (service: RunningService, during: () => Promise<T>): Promise<{ result: T, rssMiB: number }> {
  let peak = 0
  const sample = (): void => {
    for (const m of service.peaks(2000)) peak = Math.max(peak, m.rssMiB)
  }
  const timer = setInterval(sample, 100)
  try {
    const result = await during()
    sample()
    return { result, rssMiB: peak }
  } finally {
    clearInterval(timer)
  }
}

/** CPU seconds of the service, PostgreSQL and this process (the load generator) over `during`. */
export async function measured<T> (service: RunningService, database: BenchDatabase, during: () => Promise<T>): Promise<Measured<T>> {
  const serviceCpu = cpuMeter(service.pids)
  const postgresCpu = cpuMeter(database.pids)
  const generator = process.cpuUsage()
  const started = performance.now()
  const { result, rssMiB } = await peakRss(service, during)
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(generator)
  return { result, seconds, serviceCpu: serviceCpu(), postgresCpu: postgresCpu(), generatorCpu: (used.user + used.system) / 1e6, rssMiB }
}
