import { ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message-box/style/css'

/**
 * Asks before something destructive. Resolves true when the user clicks the
 * confirm button (确定, or `confirmText`, e.g. 停用).
 */
export async function confirmDanger(
  message: string,
  title = '提示',
  options: { confirmText?: string } = {},
): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, {
      type: 'warning',
      confirmButtonText: options.confirmText ?? '确定',
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

/**
 * Asks for a line of text (e.g. 打回原因). Resolves the trimmed text, or null
 * when cancelled. `validate` returns an error message, or true when fine.
 */
export async function promptText(
  message: string,
  title: string,
  options: { placeholder?: string; validate?: (v: string) => true | string } = {},
): Promise<string | null> {
  try {
    const { value } = await ElMessageBox.prompt(message, title, {
      confirmButtonText: '确定',
      cancelButtonText: '取消',
      inputPlaceholder: options.placeholder,
      inputValidator: (v: string) => (options.validate ? options.validate((v ?? '').trim()) : true),
      confirmButtonClass: 'e2e-confirm-ok',
      cancelButtonClass: 'e2e-confirm-cancel',
      inputType: 'textarea',
    })
    return (value ?? '').trim()
  } catch {
    return null
  }
}
