// Types of 操作日志 and 登录设备, from the API document.
import type { paths } from '@/api/schema'

export type AuditEntry = NonNullable<
  paths['/api/v1/audit-log']['get']['responses'][200]['content']['application/json']['items']
>[number]
export type AuditQuery = NonNullable<paths['/api/v1/audit-log']['get']['parameters']['query']>
export type AuditCategory = AuditEntry['category']
export type SignedInSession = NonNullable<
  paths['/api/v1/me/sessions']['get']['responses'][200]['content']['application/json']['items']
>[number]

export const categoryOptions: { value: AuditCategory; label: string }[] = [
  { value: 'change', label: '变更' },
  { value: 'reveal', label: '查看/导出' },
  { value: 'signin', label: '登录' },
  { value: 'signin_failed', label: '登录失败' },
]
