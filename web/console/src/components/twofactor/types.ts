import type { MethodResponse } from 'openapi-fetch'
import type { Client } from '@/api/client'

/** What POST /api/v1/session answers with 202: the ways to prove the second factor. */
export type LoginVerify = NonNullable<MethodResponse<Client, 'post', '/api/v1/session'>['verify']>
/** The second factors a sign-in may be verified with. */
export type VerifyMethod = 'totp' | 'recovery' | 'sms' | 'email'
/** 登录验证 of the signed-in account (GET /api/v1/me/two-factor). */
export type TwoFactorStatus = MethodResponse<Client, 'get', '/api/v1/me/two-factor'>

export const methodLabels: Record<VerifyMethod, string> = {
  totp: '身份验证器',
  sms: '短信验证码',
  email: '邮箱验证码',
  recovery: '恢复码',
}
