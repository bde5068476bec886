import { ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message-box/style/css'

/** Asks before something destructive. Resolves true when the user clicks 确定. */
export async function confirmDanger(message: string, title = '提示'): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, {
      type: 'warning',
      confirmButtonText: '确定',
      cancelButtonText: '取消',
      // Stable hooks for end-to-end tests (see TESTIDS.md).
      confirmButtonClass: 'e2e-confirm-ok',
      cancelButtonClass: 'e2e-confirm-cancel',
    })
    return true
  } catch {
    return false
  }
}

export async function alertInfo(message: string, title = '提示'): Promise<void> {
  try {
    await ElMessageBox.alert(message, title, {
      confirmButtonText: '知道了',
      confirmButtonClass: 'e2e-confirm-ok',
    })
  } catch {
    // closed
  }
}
