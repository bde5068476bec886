// Who is signed in. A tiny reactive store; the router guard fills it.
import { computed, ref } from 'vue'
import { client, type Me } from '@/api/client'

const me = ref<Me | null>(null)

export function useSession() {
  return {
    me,
    isOperator: computed(() => me.value?.role === 'operator'),
  }
}

export function currentMe(): Me | null {
  return me.value
}

export function setMe(value: Me | null): void {
  me.value = value
}

/** Loads /api/v1/me once; returns null when not signed in. */
export async function ensureMe(): Promise<Me | null> {
  if (me.value) return me.value
  const { data } = await client.GET('/api/v1/me')
  me.value = data ?? null
  return me.value
}

export async function logout(): Promise<void> {
  try {
    await client.DELETE('/api/v1/session')
  } finally {
    me.value = null
  }
}

export const roleNames: Record<string, string> = {
  operator: '平台管理员',
  property_admin: '物业管理员',
}

export function roleName(role: string | undefined): string {
  return (role && roleNames[role]) || role || ''
}
