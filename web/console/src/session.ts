// Who is signed in. A tiny reactive store; the router guard fills it.
import { computed, ref } from 'vue'
import { client, type Me, type Permission } from '@/api/client'

const me = ref<Me | null>(null)

export function useSession() {
  return {
    me,
    isOperator: computed(() => me.value?.role === 'operator'),
    can,
  }
}

/**
 * Whether the signed-in account's role holds permission p (角色权限).
 * Operators hold every one. The server enforces the same in its gate; the
 * console only hides what would be refused.
 */
export function can(p: Permission | undefined): boolean {
  if (!p) return true
  const m = me.value
  if (!m) return false
  return m.role === 'operator' || (m.permissions ?? []).includes(p)
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

/** The 角色 of the signed-in account as people call it, e.g. 保安. */
export function myRoleName(): string {
  return me.value?.role_name || roleName(me.value?.role)
}
