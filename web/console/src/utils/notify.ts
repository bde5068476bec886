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
