// Wording of 门口机内容管理 (product manual) and the picture sizing its dialogs share.
import type { AdOrientation, AdScreen, DeviceSlot } from '@/api/client'

export const AD_NOTE =
  '管理人员可以在后台远程给在线设备推送或替换图片广告（图片分辨率横屏不大于1280×800，竖屏不大于800×1280）'
export const AD_STEPS = '① 选择对应设备发广告（设备横屏选横屏广告）。② 点击替换，选择要发的图片确定。③ 删除已发的广告图片。'

/** The server takes JPEG or PNG pictures of at most 10 MB. */
export const MAX_AD_BYTES = 10 * 1024 * 1024
export const AD_TYPES = ['image/jpeg', 'image/png']
/** A picture whose shape differs from the screen's by more than this gets black bars. */
export const RATIO_TOLERANCE = 0.05

export const orientations: AdOrientation[] = ['landscape', 'portrait']

/** landscape → 横屏, portrait → 竖屏. */
export function screenName(o: AdOrientation): string {
  return o === 'portrait' ? '竖屏' : '横屏'
}

/** The screen size when the server has not answered yet. */
export function defaultLimit(o: AdOrientation): { width: number; height: number } {
  return o === 'portrait' ? { width: 800, height: 1280 } : { width: 1280, height: 800 }
}

/** Bound 门口机 / 围墙机 whose screen has orientation `o`: the devices that can show its ads. */
export function screenDevices(devices: DeviceSlot[], o: AdOrientation): DeviceSlot[] {
  return devices.filter(
    (d) => !!d.device_id && d.status !== 'unbound' && (d.kind === 'door' || d.kind === 'wall') && d.orientation === o,
  )
}

/** 显示设备: "全部横屏门口机/围墙机（N 台）" or "已选 M 台". */
export function targetsLabel(screen: AdScreen, all: number): string {
  if (screen.device_ids.length === 0) return `全部${screenName(screen.orientation)}门口机/围墙机（${all} 台）`
  return `已选 ${screen.device_ids.length} 台`
}

/** The confirmation of 删除. */
export function deleteQuestion(o: AdOrientation, slot: number): string {
  return `删除${screenName(o)}广告位 ${slot} 的图片？设备将不再显示。`
}

/** The picture of a slot, as the console reads it; `version` changes with every new picture. */
export function adImageUrl(cid: number, o: AdOrientation, slot: number, version?: string): string {
  const url = `/api/v1/communities/${cid}/ads/${o}/${slot}/image`
  return version ? `${url}?v=${encodeURIComponent(version)}` : url
}

export interface Size {
  width: number
  height: number
}

export function oversize(pic: Size, limit: Size): boolean {
  return pic.width > limit.width || pic.height > limit.height
}

/** The size a too-large picture is scaled down to (keeping its shape), as the server does. */
export function fittedSize(pic: Size, limit: Size): Size {
  if (!oversize(pic, limit)) return pic
  const scale = Math.min(limit.width / pic.width, limit.height / pic.height)
  return {
    width: Math.max(1, Math.min(limit.width, Math.round(pic.width * scale))),
    height: Math.max(1, Math.min(limit.height, Math.round(pic.height * scale))),
  }
}

/** True when the picture's shape differs from the screen's by more than 5 %. */
export function ratioDiffers(pic: Size, limit: Size): boolean {
  const a = pic.width / pic.height
  const b = limit.width / limit.height
  return Math.abs(a / b - 1) > RATIO_TOLERANCE
}

/** "1920×1080" */
export function sizeLabel(s: Size): string {
  return `${s.width}×${s.height}`
}
