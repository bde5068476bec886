// The one API module of the console. Every call goes through `client`, typed by
// the generated `paths` (src/api/schema.d.ts, produced by `npm run gen:api`
// from the server's openapi.json — never edit it by hand).
import createClient, { type Middleware, type MethodResponse } from 'openapi-fetch'
import type { paths } from './schema'

export const client = createClient<paths>({ credentials: 'same-origin' })

export type Client = typeof client

// ---- Types derived from the generated schema (by path, not by schema name) ----
export type Me = MethodResponse<Client, 'get', '/api/v1/me'>
export type Role = Me['role']
/** A permission of a staff role, e.g. `residents.edit` (GET /api/v1/permissions). */
export type Permission = string
export type PermissionInfo = NonNullable<MethodResponse<Client, 'get', '/api/v1/permissions'>['items']>[number]
export type StaffRole = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/roles'>['items']>[number]
export type StaffAccount = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/staff'>['items']>[number]
export type Community = MethodResponse<Client, 'get', '/api/v1/communities/{cid}'>
export type Account = NonNullable<MethodResponse<Client, 'get', '/api/v1/accounts'>['items']>[number]
export type Region = NonNullable<MethodResponse<Client, 'get', '/api/v1/regions'>>[number]
export type Area = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/tree'>>[number]
export type Building = NonNullable<Area['buildings']>[number]
export type Unit = NonNullable<Building['units']>[number]
export type Room = NonNullable<
  MethodResponse<Client, 'get', '/api/v1/communities/{cid}/rooms'>['items']
>[number]
export type CardType = NonNullable<Community['card_type']>
export type UnitType = NonNullable<Unit['type']>
export type Resident = MethodResponse<Client, 'get', '/api/v1/communities/{cid}/residents/{id}'>
export type Gender = Resident['gender']
/** Query of the resident list: the room cascade, 姓名或手机号, paging. */
export type ResidentQuery = NonNullable<paths['/api/v1/communities/{cid}/residents']['get']['parameters']['query']>
type JsonBody<P extends keyof paths, M extends 'post' | 'patch' | 'put'> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } }
}
  ? B
  : never
export type Application = MethodResponse<Client, 'get', '/api/v1/communities/{cid}/applications/{id}'>
export type ApplicationStatus = Application['status']
export type StaffInvitation = MethodResponse<Client, 'post', '/api/v1/communities/{cid}/invitations/{id}/approve'>
/** Query of the application list: the room cascade, 姓名或手机号, 状态, paging. */
export type ApplicationQuery = NonNullable<
  paths['/api/v1/communities/{cid}/applications']['get']['parameters']['query']
>
type MultipartBody<P extends keyof paths, M extends 'post' | 'patch' | 'put'> = paths[P][M] extends {
  requestBody?: { content: { 'multipart/form-data': infer B } }
}
  ? B
  : never
export type FaceUploadForm = MultipartBody<'/api/v1/communities/{cid}/residents/{id}/face', 'put'>
export type ResidentImportForm = MultipartBody<'/api/v1/communities/{cid}/residents/import', 'post'>
export type ResidentPermissionsBody = JsonBody<'/api/v1/communities/{cid}/residents/{id}/permissions', 'patch'>
export type FaceSettingsBody = JsonBody<'/api/v1/communities/{cid}/residents/{id}/face', 'patch'>
export type Card = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/cards'>['items']>[number]
export type CardStatus = Card['status']
export type CardMode = Card['mode']
/** 普通卡 normal or 超级卡 super. */
export type CardKind = Card['type']
/** Query of the card list: the room cascade, 状态, 卡号, paging. */
export type CardQuery = NonNullable<paths['/api/v1/communities/{cid}/cards']['get']['parameters']['query']>
export type IssueCardBody = JsonBody<'/api/v1/communities/{cid}/cards', 'post'>
export type IssueSuperCardBody = JsonBody<'/api/v1/communities/{cid}/cards/super', 'post'>
/** How a card number is written: hex 十六进制 or decimal 十进制. */
export type CardNumberFormat = NonNullable<IssueCardBody['format']>
export type CardUnitsBody = JsonBody<'/api/v1/communities/{cid}/cards/{id}/units', 'put'>
export type CardExpiryBody = JsonBody<'/api/v1/communities/{cid}/cards/{id}/expiry', 'put'>

export type VisitorPass = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/passes'>['items']>[number]
export type VisitorPassStatus = VisitorPass['status']
export type VisitorPassQuery = NonNullable<paths['/api/v1/communities/{cid}/passes']['get']['parameters']['query']>
/** One camera of 监控设备 (ONVIF): what it said when last checked, and its status. */
export type Camera = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/cameras'>['items']>[number]
export type CameraBody = JsonBody<'/api/v1/communities/{cid}/cameras', 'post'>
/** One row of 设备列表: a slot (安装位置) and the device bound to it, if any. */
export type DeviceSlot = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/devices'>['items']>[number]
export type DeviceKind = DeviceSlot['kind']
export type DeviceStatus = DeviceSlot['status']
/** Query of the device list: 设备类型, the 区域/楼栋/单元 cascade, 状态 (not paged). */
export type DeviceQuery = NonNullable<paths['/api/v1/communities/{cid}/devices']['get']['parameters']['query']>
/** The last firmware upgrade of a device: target version, state, progress. */
export type DeviceUpgrade = NonNullable<DeviceSlot['upgrade']>
export type UpgradeState = DeviceUpgrade['state']
export type UpgradeDevicesBody = JsonBody<'/api/v1/communities/{cid}/devices/upgrade', 'post'>
/** One firmware file of 固件管理 (per model; versions only go up). */
export type Firmware = NonNullable<MethodResponse<Client, 'get', '/api/v1/firmware'>['items']>[number]
export type FirmwareUploadForm = MultipartBody<'/api/v1/firmware', 'post'>
/** One row of 呼叫记录 / 开锁记录: a call or an unlock a device reported, maybe with a 抓拍照片. */
export type AccessRecord = NonNullable<
  MethodResponse<Client, 'get', '/api/v1/communities/{cid}/records/calls'>['items']
>[number]
/** Query of 呼叫记录 / 开锁记录: the 区域/楼栋/单元 cascade, 设备, 时间 (from inclusive, to exclusive), 开锁类型, paging. */
export type RecordQuery = NonNullable<paths['/api/v1/communities/{cid}/records/unlocks']['get']['parameters']['query']>
/** One 小区通知 or 房间通知 (展示时间 show_from … show_to, both days shown). */
export type Notice = NonNullable<MethodResponse<Client, 'get', '/api/v1/communities/{cid}/notices'>['items']>[number]
/** community 小区通知 or rooms 房间通知. */
export type NoticeScope = Notice['scope']
export type CommunityNoticeBody = JsonBody<'/api/v1/communities/{cid}/notices', 'post'>
export type RoomNoticeBody = JsonBody<'/api/v1/communities/{cid}/room-notices', 'post'>
/** 门口机内容管理: the ads of one screen orientation (4 slots) and the devices that show them. */
export type AdScreen = MethodResponse<Client, 'get', '/api/v1/communities/{cid}/ads'>['screens'][number]
export type AdSlot = AdScreen['slots'][number]
/** landscape 横屏 or portrait 竖屏. */
export type AdOrientation = AdScreen['orientation']
export type AdUploadForm = MultipartBody<'/api/v1/communities/{cid}/ads/{orientation}/{slot}', 'put'>
export type AdTargetsBody = JsonBody<'/api/v1/communities/{cid}/ads/{orientation}/targets', 'put'>
/** The room cascade 区域 ▾ 楼栋 ▾ 单元 ▾ 楼层 ▾ 房号 ▾ as list filters. */
export type RoomPick = Pick<ResidentQuery, 'area_id' | 'building_id' | 'unit_id' | 'floor' | 'room_id'>

// ---- RFC 9457 problem details ----
export interface ProblemFieldError {
  message?: string
  location?: string
  value?: unknown
}
export interface Problem {
  title?: string
  status?: number
  detail?: string
  errors?: ProblemFieldError[] | null
}

/** Normalises whatever an openapi-fetch call put into `error` into a Problem. */
export function toProblem(error: unknown, response?: Response): Problem {
  if (error && typeof error === 'object') {
    return error as Problem
  }
  if (typeof error === 'string' && error !== '') {
    return { detail: error, status: response?.status }
  }
  return { status: response?.status }
}

/** The Chinese sentence to show to the user for a failed call. */
export function problemMessage(problem: Problem): string {
  if (problem.detail) return problem.detail
  if (problem.errors && problem.errors.length > 0 && problem.errors[0]?.message) {
    return problem.errors[0].message
  }
  if (problem.status === 0 || problem.status === undefined) return '网络异常，请稍后重试'
  if (problem.status >= 500) return '服务器开小差了，请稍后重试'
  return problem.title || `请求失败（${problem.status}）`
}

/** Per-field messages keyed by body field name ("body.name" → "name"). */
export function fieldErrors(problem: Problem): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of problem.errors ?? []) {
    const loc = e.location ?? ''
    if (!loc.startsWith('body.')) continue
    const field = loc.slice('body.'.length).split(/[.[]/)[0]
    if (field && !out[field]) out[field] = e.message ?? '格式不正确'
  }
  return out
}

// ---- multipart/form-data and file downloads ----

/**
 * A FormData body for an openapi-fetch call whose request is multipart/form-data:
 * the keys are checked against the schema's form fields; send it with
 * `bodySerializer: (b) => b` so the browser sets the boundary.
 */
export function formData<T extends object>(fields: { [K in keyof T]?: string | Blob }): T {
  const fd = new FormData()
  for (const [k, v] of Object.entries(fields) as [string, string | Blob | undefined][]) {
    if (v !== undefined) fd.append(k, v)
  }
  return fd as unknown as T
}

/** The file name a Content-Disposition header carries (RFC 6266: filename* wins). */
export function dispositionFilename(header: string | null): string | null {
  if (!header) return null
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header)
  if (star?.[2]) {
    try {
      return decodeURIComponent(star[2].trim().replace(/^"|"$/g, ''))
    } catch {
      // fall through to filename=
    }
  }
  const plain = /filename\s*=\s*("((?:\\.|[^"\\])*)"|[^;]+)/i.exec(header)
  if (plain) {
    const v = plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : (plain[1] ?? '').trim()
    return v || null
  }
  return null
}

// ---- Global reactions to 401 / 403 (wired up in main.ts) ----
export interface AuthHandlers {
  /** Any 401 outside of login / session bootstrap. */
  unauthorized: () => void
  /** A 403 that says the initial password must be changed first. */
  passwordChangeRequired: () => void
  /** Whether the signed-in user is known to have to change the password. */
  mustChangePassword: () => boolean
}

let handlers: AuthHandlers | null = null

export function setAuthHandlers(h: AuthHandlers): void {
  handlers = h
}

// Calls whose 401 is handled by the caller itself (登录验证 answers 401 when
// the sign-in must start over from the password).
const selfHandled401 = new Set(['/api/v1/session', '/api/v1/session/code', '/api/v1/session/verify', '/api/v1/me'])

const passwordChangePattern = /修改.*密码|密码.*修改|更改.*密码|初始密码|must.?change.?password/i

const authMiddleware: Middleware = {
  async onResponse({ response, schemaPath, request }) {
    if (!handlers) return undefined
    if (response.status === 401) {
      const isSelf = selfHandled401.has(schemaPath) && (request.method === 'POST' || request.method === 'GET')
      if (!isSelf) handlers.unauthorized()
    } else if (response.status === 403) {
      let detail = ''
      try {
        const body = (await response.clone().json()) as Problem
        detail = body.detail ?? ''
      } catch {
        // not JSON — ignore
      }
      if (passwordChangePattern.test(detail) || handlers.mustChangePassword()) {
        handlers.passwordChangeRequired()
      }
    }
    return undefined
  },
  onError() {
    // fetch itself failed (server down, network gone): answer like the server would.
    const body: Problem = { title: 'Service Unavailable', status: 503, detail: '网络异常，请检查网络连接后重试' }
    return new Response(JSON.stringify(body), {
      status: 503,
      headers: { 'Content-Type': 'application/problem+json' },
    })
  },
}

client.use(authMiddleware)
