import { ref, shallowRef } from 'vue'
import { client, type Area, type Room } from '@/api/client'
import { can } from '@/session'
import { apiAction, notifyError } from '@/utils/notify'

/**
 * The 区域/楼栋/单元 tree of one community, for the room cascade selects.
 * A role without 房屋·查看 gets no options (the server would refuse them),
 * so its pages work without the room filters instead of showing errors.
 */
export function useHousingTree() {
  const areas = shallowRef<Area[]>([])
  const loading = ref(false)
  let seq = 0

  async function load(cid: number | null): Promise<void> {
    const mine = ++seq
    if (cid === null || !can('housing.view')) {
      areas.value = []
      return
    }
    loading.value = true
    try {
      const { data, error, response } = await client.GET('/api/v1/communities/{cid}/tree', {
        params: { path: { cid } },
      })
      if (mine !== seq) return
      if (error || !data) {
        notifyError(error, response)
        areas.value = []
        return
      }
      areas.value = data
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  return { areas, loading, load }
}

const ROOM_PAGE = 100
const ROOM_MAX_PAGES = 20
const CACHE_MS = 30_000
const roomCache = new Map<string, { at: number; rooms: Promise<Room[] | null> }>()

/**
 * Every room of a unit (楼层 and 房号 options), newest answer kept for a short
 * while so the filter bar and the form share it. Null on failure (already shown).
 */
export function loadUnitRooms(cid: number, unitId: number, fresh = false): Promise<Room[] | null> {
  const key = `${cid}:${unitId}`
  if (!can('housing.view')) return Promise.resolve([])
  const hit = roomCache.get(key)
  if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.rooms
  const rooms = (async () => {
    const all: Room[] = []
    for (let page = 1; page <= ROOM_MAX_PAGES; page++) {
      const data = await apiAction(client.GET('/api/v1/communities/{cid}/rooms', {
        params: { path: { cid }, query: { unit_id: unitId, page, size: ROOM_PAGE } },
      }))
      if (!data) {
        roomCache.delete(key)
        return null
      }
      const items = data.items ?? []
      all.push(...items)
      if (items.length < ROOM_PAGE || all.length >= data.total) break
    }
    return all.sort((a, b) => a.floor - b.floor || a.number - b.number)
  })()
  roomCache.set(key, { at: Date.now(), rooms })
  return rooms
}

/** Forgets cached rooms (after the housing tree was reloaded). */
export function forgetUnitRooms(): void {
  roomCache.clear()
}
