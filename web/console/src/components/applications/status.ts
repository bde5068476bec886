import type { ApplicationStatus } from '@/api/client'

export const statusOptions: { value: ApplicationStatus; label: string; tag: 'warning' | 'success' | 'danger' }[] = [
  { value: 'pending', label: '申请中', tag: 'warning' },
  { value: 'approved', label: '已通过', tag: 'success' },
  { value: 'rejected', label: '已打回', tag: 'danger' },
]

export function statusLabel(s: ApplicationStatus): string {
  return statusOptions.find((o) => o.value === s)?.label ?? s
}

export function statusTag(s: ApplicationStatus): 'warning' | 'success' | 'danger' | 'info' {
  return statusOptions.find((o) => o.value === s)?.tag ?? 'info'
}
