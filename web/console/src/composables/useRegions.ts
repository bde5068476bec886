import { shallowRef } from 'vue'
import { client, type Region } from '@/api/client'
import { apiAction } from '@/utils/notify'

/** A region as el-cascader wants it: districts have no `children` at all, so they are leaves. */
export type RegionOption = { code: string; name: string; children?: RegionOption[] }

function toOptions(nodes: Region[]): RegionOption[] {
  return nodes.map((n) =>
    n.children && n.children.length > 0
      ? { code: n.code, name: n.name, children: toOptions(n.children) }
      : { code: n.code, name: n.name },
  )
}

const regions = shallowRef<RegionOption[]>([])
let pending: Promise<void> | null = null

/** The province/city/district tree for el-cascader, loaded once per page load. */
export function useRegions() {
  function load(): Promise<void> {
    if (regions.value.length > 0) return Promise.resolve()
    if (!pending) {
      pending = (async () => {
        const data = await apiAction(client.GET('/api/v1/regions'))
        if (data) regions.value = toOptions(data)
        pending = null
      })()
    }
    return pending
  }
  return { regions, load }
}
