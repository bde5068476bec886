// Wording of 设备列表 (product manual).
import type { DeviceKind, DeviceSlot, DeviceStatus, DeviceUpgrade } from '@/api/client'

export const kindOptions: { value: DeviceKind; label: string }[] = [
  { value: 'door', label: '门口机' },
  { value: 'wall', label: '围墙机' },
  { value: 'management', label: '管理机' },
  { value: 'indoor', label: '室内分机' },
]

export const statusOptions: { value: DeviceStatus; label: string }[] = [
  { value: 'online', label: '在线' },
  { value: 'offline', label: '离线' },
  { value: 'unbound', label: '未绑定' },
]

export function statusLabel(s: DeviceStatus): string {
  return statusOptions.find((o) => o.value === s)?.label ?? s
}

/** 在线 solid green, 离线 solid grey, 未绑定 an outlined grey tag. */
export function statusTag(s: DeviceStatus): { type: 'success' | 'info'; effect: 'dark' | 'plain' } {
  if (s === 'online') return { type: 'success', effect: 'dark' }
  if (s === 'offline') return { type: 'info', effect: 'dark' }
  return { type: 'info', effect: 'plain' }
}

export function orientationLabel(o: DeviceSlot['orientation']): string {
  if (o === 'landscape') return '横屏'
  if (o === 'portrait') return '竖屏'
  return ''
}

/** An upgrade that has not finished yet: the list keeps refreshing while any row has one. */
export function upgradeRunning(u: DeviceUpgrade | undefined | null): boolean {
  return !!u && (u.state === 'pending' || u.state === 'downloading' || u.state === 'installing')
}

export function upgradeLabel(u: DeviceUpgrade): string {
  switch (u.state) {
    case 'pending':
      return '等待设备响应'
    case 'downloading':
      return '下载中'
    case 'installing':
      return '安装中'
    case 'succeeded':
      return `升级成功（${u.version}）`
    case 'failed':
      return '升级失败'
    default:
      return u.state
  }
}

/** Only devices that are bound and online can be upgraded. */
export function upgradable(d: DeviceSlot): boolean {
  return !!d.device_id && d.status === 'online'
}
