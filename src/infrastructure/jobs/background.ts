/**
 * Work started after a response is sent (a sign-in email), so that the
 * answer and its timing do not depend on it. Close waits for what is still
 * running; tests wait with `settled()`.
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
