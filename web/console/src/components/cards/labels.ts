// Wording of 门禁卡列表 (product manual) and helpers shared by its dialogs.
import type { Area, CardKind, CardMode, CardNumberFormat, CardStatus, CardType } from '@/api/client'
import { areaLabel, buildingLabel, unitLabel } from '@/components/housing/tree'
import { toRFC3339 } from '@/utils/format'

type TagType = 'success' | 'warning' | 'danger' | 'info' | 'primary'

export const statusOptions: { value: CardStatus; label: string; tag: TagType }[] = [
  { value: 'active', label: '正常', tag: 'success' },
  { value: 'disabled', label: '停用', tag: 'danger' },
  { value: 'blank', label: '白卡', tag: 'info' },
]

export const modeOptions: { value: CardMode; label: string }[] = [
  { value: 'ic', label: 'ic模式' },
  { value: 'id_card', label: '身份证' },
]

export const formatOptions: { value: CardNumberFormat; label: string }[] = [
  { value: 'hex', label: '十六进制' },
  { value: 'decimal', label: '十进制' },
]

export function statusLabel(s: CardStatus): string {
  return statusOptions.find((o) => o.value === s)?.label ?? s
}

export function statusTag(s: CardStatus): TagType {
  return statusOptions.find((o) => o.value === s)?.tag ?? 'info'
}

export function modeLabel(m: CardMode): string {
  return modeOptions.find((o) => o.value === m)?.label ?? m
}

export function kindLabel(k: CardKind): string {
  return k === 'super' ? '超级卡' : '普通卡'
}

/** The mode a new card starts with: the community's 门禁卡类型 (ic when both). */
export function defaultMode(cardType: CardType | undefined): CardMode {
  return cardType === 'id_card' ? 'id_card' : 'ic'
}

/** Client-side check of a card number as the server parses it (cardno.Parse). */
export function checkCardNumber(raw: string, format: CardNumberFormat): true | string {
  const s = raw.trim().replace(/[\s:-]/g, '')
  if (s === '') return '请输入卡号'
  if (format === 'decimal') {
    return /^\d{1,25}$/.test(s) ? true : '十进制卡号只能包含数字'
  }
  const hex = s.replace(/^0x/i, '')
  return /^[0-9A-Fa-f]{6,20}$/.test(hex) ? true : '卡号应为 6 到 20 位十六进制数字（0-9、A-F），如 09E98CF6'
}

/**
 * 有效时间 as the API wants it: undefined for 永久有效, else RFC 3339;
 * an error message when the chosen time is missing or not in the future.
 */
export function expiryValue(
  permanent: boolean,
  until: Date | null,
): { ok: true; value: string | undefined } | { ok: false; error: string } {
  if (permanent) return { ok: true, value: undefined }
  if (!until) return { ok: false, error: '请选择到期时间' }
  if (until.getTime() <= Date.now()) return { ok: false, error: '到期时间必须晚于现在；永久有效请选择“永久有效”' }
  return { ok: true, value: toRFC3339(until) }
}

/** A unit of the housing tree for the 权限 table: its label and test-id key. */
export interface UnitOption {
  id: number
  label: string
  /** "{area}-{building}-{unit}" numbers, as in the housing tree's test ids. */
  key: string
}

/** Every unit of the tree, in tree order, labelled like 【测试小区1】-1区-1栋-1单元. */
export function unitOptions(areas: Area[]): UnitOption[] {
  const out: UnitOption[] = []
  for (const a of areas) {
    for (const b of a.buildings ?? []) {
      for (const u of b.units ?? []) {
        out.push({
          id: u.id,
          label: u.label || `${areaLabel(a)}-${buildingLabel(b)}-${unitLabel(u)}`,
          key: `${a.number}-${b.number}-${u.number}`,
        })
      }
    }
  }
  return out
}
