import { reactive } from 'vue'
import { fieldErrors, type Problem } from '@/api/client'

/**
 * Server-side per-field messages for an el-form: bind `:error="errs.name"` on
 * each el-form-item, call `clear()` before submitting and `apply(problem)` on failure.
 */
export function useFormErrors() {
  const errs = reactive<Record<string, string>>({})
  function clear(): void {
    for (const k of Object.keys(errs)) delete errs[k]
  }
  function apply(problem: Problem): void {
    clear()
    Object.assign(errs, fieldErrors(problem))
  }
  return { errs, clear, apply }
}
