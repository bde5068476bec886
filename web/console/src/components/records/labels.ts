// Wording of 呼叫记录 and 开锁记录 (product manual, 记录信息管理).
import type { AccessRecord } from '@/api/client'

/** Which list a page shows: 呼叫记录 or 开锁记录. */
export type RecordKind = 'calls' | 'unlocks'

export const kindTitle: Record<RecordKind, string> = {
  calls: '呼叫记录',
  unlocks: '开锁记录',
}

/** The ways a door opens, as the devices report them (开锁类型). */
export const unlockTypeOptions: { value: string; label: string }[] = [
  { value: 'card', label: '刷卡' },
  { value: 'face', label: '人脸' },
  { value: 'password', label: '密码' },
  { value: 'app', label: 'APP远程' },
  { value: 'call', label: '通话中开锁' },
  { value: 'qrcode', label: '二维码' },
  { value: 'management', label: '管理机' },
  { value: 'id_card', label: '身份证' },
  { value: 'button', label: '出门按钮' },
  { value: 'other', label: '其他' },
]

/** 呼叫结果 as the 结果 filter offers them; 监视 sessions are apart (never missed calls). */
export const callResultOptions: { value: string; label: string }[] = [
  { value: 'answered', label: '已接听' },
  { value: 'missed', label: '未接听' },
  { value: 'busy', label: '占线/拒接' },
  { value: 'cancelled', label: '已取消' },
  { value: 'forwarded', label: '已转移' },
  { value: 'failed', label: '失败' },
  { value: 'monitor', label: '监视' },
]

/** 结果 of a call record: the server's wording (已接听, 失败（486）, 监视, 呼叫中), '-' for calls only the device reported. */
export function callResultLabel(r: AccessRecord): string {
  return r.result_name || '-'
}

/** 通话时长 of a call record: 1分05秒, 42秒; '-' when nobody answered. */
export function talkTime(r: AccessRecord): string {
  if (!r.answered_at) return '-'
  const s = r.talk_seconds ?? 0
  return s >= 60 ? `${Math.floor(s / 60)}分${String(s % 60).padStart(2, '0')}秒` : `${s}秒`
}

/** 开锁类型 of a record: the server's name, else ours; never the bare code. */
export function unlockTypeLabel(r: AccessRecord): string {
  if (r.unlock_type_name) return r.unlock_type_name
  if (!r.unlock_type) return '-'
  return unlockTypeOptions.find((o) => o.value === r.unlock_type)?.label ?? '其他'
}

/** Where the 抓拍照片 of a record is served (the session cookie goes along on the same origin). */
export function snapshotUrl(cid: number, id: number): string {
  return `/api/v1/communities/${cid}/records/${id}/snapshot`
}
