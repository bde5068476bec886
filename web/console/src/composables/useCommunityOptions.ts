import { shallowRef } from 'vue'
import { client, type Community } from '@/api/client'
import { apiAction } from '@/utils/notify'

const PAGE = 100
const MAX_PAGES = 50

/** Every community the signed-in user may see, for selectors. */
export function useCommunityOptions() {
  const communities = shallowRef<Community[]>([])
  const loading = shallowRef(false)

  async function load(): Promise<void> {
    loading.value = true
    try {
      const all: Community[] = []
      for (let page = 1; page <= MAX_PAGES; page++) {
        const data = await apiAction(client.GET('/api/v1/communities', {
          params: { query: { page, size: PAGE } },
        }))
        if (!data) return
        const items = data.items ?? []
        all.push(...items)
        if (items.length === 0 || all.length >= data.total) break
      }
      communities.value = all
    } finally {
      loading.value = false
    }
  }

  return { communities, loading, load }
}
