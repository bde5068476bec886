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
