/**
 * Resolves when every promise in `running` has settled (those added while
 * waiting included), or after `ms`, whichever is first: whether they all
 * settled. For shutdowns that wait for work in hand without waiting forever.
 */
export async function settledWithin (running: ReadonlySet<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, ms) })
  try {
    while (running.size > 0) {
      const all = Promise.allSettled([...running]).then(() => true)
      if (!await Promise.race([all, deadline])) return false
    }
    return true
  } finally {
    clearTimeout(timer)
  }
}
