const pad = (n: number): string => String(n).padStart(2, '0')

/** RFC 3339 → "2020-05-06 10:39:26" in the browser's time zone. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  )
}

/** RFC 3339 → "2020-05-06 10:39" (to the minute) in the browser's time zone. */
export function formatMinute(value: string | null | undefined): string {
  return formatDateTime(value).slice(0, 16)
}

/** 13800138000 → 138****8000 */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return ''
  return phone.length >= 11 ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : phone
}

/** a.bcd@x.com → a***@x.com */
export function maskEmail(email: string | null | undefined): string {
  if (!email) return ''
  const at = email.indexOf('@')
  if (at <= 1) return email
  return `${email.slice(0, 1)}***${email.slice(at)}`
}

/** A Date as RFC 3339 in the browser's time zone: "2026-12-31T23:59:59+08:00". */
export function toRFC3339(d: Date): string {
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const abs = Math.abs(off)
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  )
}

/** male → 男, female → 女, anything else → — */
export function genderLabel(g: string | null | undefined): string {
  if (g === 'male') return '男'
  if (g === 'female') return '女'
  return '—'
}

/** 1234567 → "1.2 MB" (binary units, one decimal from KB up). */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return ''
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}
