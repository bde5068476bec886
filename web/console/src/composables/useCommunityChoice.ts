import { computed, ref } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useCommunityOptions } from '@/composables/useCommunityOptions'
import { useSession } from '@/session'

/**
 * The community a per-community page works on, kept in the URL (`?cid=2`):
 * operators (or accounts with several communities) choose it in a select,
 * a property manager with one community just sees its name.
 */
export function useCommunityChoice(onChange: (cid: number | null) => void) {
  const route = useRoute()
  const router = useRouter()
  const { isOperator } = useSession()
  const { communities, loading, load } = useCommunityOptions()
  const cid = ref<number | null>(null)

  const showSelector = computed(() => isOperator.value || communities.value.length > 1)
  const current = computed(() => communities.value.find((c) => c.id === cid.value) ?? null)

  function choose(id: number | null): void {
    if (id === cid.value) return
    cid.value = id
    void router.replace({ query: id !== null ? { ...route.query, cid: String(id) } : {} })
    onChange(id)
  }

  /** Loads the communities and picks the one in the URL, or the first. */
  async function init(): Promise<void> {
    await load()
    const fromQuery = Number(route.query.cid)
    const initial = communities.value.find((c) => c.id === fromQuery) ?? communities.value[0]
    if (initial) choose(initial.id)
  }

  return { cid, communities, loading, showSelector, current, choose, init }
}
