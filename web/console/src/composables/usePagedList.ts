import { ref, shallowRef } from 'vue'

export interface PageResult<T> {
  items: T[]
  total: number
}

/**
 * State for a server-paginated table. `fetcher` returns null on failure
 * (it has already told the user). Late answers of superseded loads are dropped.
 */
export function usePagedList<T>(fetcher: (page: number, size: number) => Promise<PageResult<T> | null>) {
  const items = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const size = ref(10)
  const loading = ref(false)
  let seq = 0

  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    try {
      const r = await fetcher(page.value, size.value)
      if (mine !== seq || !r) return
      // The last row of the last page was deleted: step back one page.
      if (r.items.length === 0 && r.total > 0 && page.value > 1) {
        page.value = Math.max(1, Math.ceil(r.total / size.value))
        await load()
        return
      }
      items.value = r.items
      total.value = r.total
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  function reset(): void {
    seq++
    items.value = []
    total.value = 0
    page.value = 1
    loading.value = false
  }

  return { items, total, page, size, loading, load, reset }
}
