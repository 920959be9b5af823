/**
 * The benches end everything they open (services, pools, the embedded PostgreSQL) and then
 * exit on their own. Should something still hold the event loop, the bench must not hang
 * after its table (it did one run in three, waiting for a service 'exit' event that had
 * already fired while a pool and the embedded PostgreSQL kept the loop alive): after a grace
 * period it says what was still open and exits.
 */
export function exitWhenDone (graceMs = 5000): void {
  // unref: when nothing else is open, the process exits at once without waiting for this timer.
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'Timeout')
    const counted = new Map<string, number>()
    for (const r of open) counted.set(r, (counted.get(r) ?? 0) + 1)
    console.error(`bench: still open ${graceMs / 1000} s after the results (${[...counted].map(([r, n]) => `${n} ${r}`).join(', ') || 'timers only'}); exiting anyway`)
    process.exit(process.exitCode ?? 0)
  }, graceMs).unref()
}
