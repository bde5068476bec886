import { ElMessage } from 'element-plus'
import 'element-plus/es/components/message/style/css'
import { problemMessage, toProblem, type Problem } from '@/api/client'

/**
 * Toasts sit in the 56 px header band, one at a time (a new one replaces the
 * last, see show), so that they never cover a panel's title, filters or a dialog.
 */
export const messageConfig = { offset: 8, grouping: true, showClose: true }

function show(type: 'success' | 'error', message: string): void {
  ElMessage.closeAll()
  ElMessage({ type, message })
}

/** Shows the server's Chinese `detail` for a failed call and returns the problem. */
export function notifyError(error: unknown, response?: Response): Problem {
  const problem = toProblem(error, response)
  // 401s are turned into a redirect to /login by the client middleware, except
  // those of signing in (wrong password, 登录验证 expired), which are shown.
  if (problem.status !== 401 || /\/api\/v1\/session(\/code|\/verify)?$/.test(response?.url ?? '')) {
    show('error', problemMessage(problem))
  }
  return problem
}

export function notifySuccess(message: string): void {
  show('success', message)
}

/** What apiAction resolves to on success: the body, or `true` for a call that answers without one. */
export type ActionResult<D> = [NonNullable<D>] extends [never] ? true : NonNullable<D>

/**
 * Awaits an openapi-fetch call; on failure shows the server's message
 * (notifyError) and resolves to undefined, else to the answer's body (`true`
 * when it has none, e.g. 204). Callers that handle some statuses themselves
 * (form field errors, 登录验证) keep notifyError and the response instead.
 */
export async function apiAction<D>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<ActionResult<D> | undefined> {
  const { data, error, response } = await call
  if (error || !response.ok) {
    notifyError(error, response)
    return undefined
  }
  return (data ?? true) as ActionResult<D>
}
