/**
 * Work started after a response is sent, so that the answer and its timing
 * do not depend on it. Close waits for what is still running; tests wait with
 * `settled()`.
 *
 * Everything else that runs later is a job (job-queue.ts); this holds only
 * the portal's sign-in email, on purpose. Its link carries a token that signs
 * the holder in, and the database keeps only the token's SHA-256: a job's
 * payload would keep the token itself, readable in pg-boss's tables (and
 * their week of completed jobs) by anyone who can read the database.
 * An encrypted payload would need a key kept outside the database, one more
 * secret to deploy and rotate, for a link that lives 15 minutes and whose
 * loss costs one more click. So the cost is accepted: if this process dies
 * before the email leaves, none goes, and the holder asks for another link.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<unknown>>()

  constructor (private readonly onError: (error: unknown) => void) {}

  run (task: () => Promise<unknown>): void {
    const promise = task().catch(this.onError).finally(() => { this.running.delete(promise) })
    this.running.add(promise)
  }

  async settled (): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }
}
