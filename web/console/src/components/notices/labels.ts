// Wording of 公告信息管理 (product manual) and the 展示时间 helpers its dialogs share.
import type { Notice, NoticeScope } from '@/api/client'

/** Which list a page shows: 小区通知 (community) or 房间通知 (rooms). */
export type NoticeKind = NoticeScope

/** 展示时间 as the date picker holds it: ["2020-07-23", "2020-07-24"], both days shown. */
export type DateRange = [string, string]

/** Longest 展示时间, in days (both ends included). */
export const MAX_NOTICE_DAYS = 60
export const MAX_TITLE = 40
export const MAX_CONTENT = 1000
/** The server takes at most this many whole units in one 房间通知. */
export const MAX_NOTICE_UNITS = 500

const pad = (n: number): string => String(n).padStart(2, '0')

/** A day as "2020-07-23", in the browser's time zone. */
export function dayString(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

/** Today plus `offset` days, as "2020-07-23". */
export function today(offset = 0): string {
  const d = new Date()
  d.setDate(d.getDate() + offset)
  return dayString(d)
}

function parseDay(s: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null
}

/** Days shown from `from` to `to`, both included (1 for one day). */
export function spanDays(from: string, to: string): number {
  const a = parseDay(from)
  const b = parseDay(to)
  if (!a || !b) return 0
  return Math.round((b.getTime() - a.getTime()) / 86_400_000) + 1
}

/** The picker refuses days before today. */
export function beforeToday(d: Date): boolean {
  const start = new Date()
  start.setHours(0, 0, 0, 0)
  return d.getTime() < start.getTime()
}

/** Client-side check of 展示时间; an empty range is allowed only when not `required`. */
export function checkRange(range: DateRange | null | undefined, required: boolean): true | string {
  if (!range || range.length !== 2 || !range[0] || !range[1]) return required ? '请选择展示时间' : true
  const [from, to] = range
  const days = spanDays(from, to)
  if (days < 1) return '展示时间的结束日期不能早于开始日期'
  if (days > MAX_NOTICE_DAYS) return `展示时间最多 ${MAX_NOTICE_DAYS} 天`
  if (to < today()) return '展示时间已经过去，请选择今天或以后的日期'
  return true
}

/** 展示时间 column: "2020-07-23 至 2020-07-24". */
export function rangeLabel(n: Notice): string {
  return `${n.show_from} 至 ${n.show_to}`
}

/** 房间 column: the first rooms joined with "、", then " 等 N 间" when there are more. */
export function roomsLabel(n: Notice): string {
  const labels = n.room_labels ?? []
  const count = n.room_count ?? labels.length
  const shown = labels.join('、')
  return count > labels.length ? `${shown} 等 ${count} 间` : shown
}

/** The confirmation of 删除. */
export function deleteQuestion(n: Notice): string {
  return `删除通知「${n.title}」？设备和业主 APP 将不再显示该通知。`
}

/** What 房间通知 goes to: whole units, and single rooms of the other units. */
export interface RoomSelection {
  unitIds: number[]
  roomIds: number[]
  /** How many rooms that is: the rooms of the whole units plus the single rooms. */
  rooms: number
}

/** "已选 15 户（1 个整单元、2 个房间）", or "尚未选择房间". */
export function selectionLabel(s: RoomSelection): string {
  if (s.rooms === 0) return '尚未选择房间'
  const parts: string[] = []
  if (s.unitIds.length > 0) parts.push(`${s.unitIds.length} 个整单元`)
  if (s.roomIds.length > 0) parts.push(`${s.roomIds.length} 个房间`)
  return `已选 ${s.rooms} 户（${parts.join('、')}）`
}
