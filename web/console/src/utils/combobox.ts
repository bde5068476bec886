import type { Directive } from 'vue'

/**
 * vCombobox names the text input inside an Element Plus cascader and gives it
 * the combobox role: the cascader marks that input aria-expanded, which a
 * plain text box may not carry, and leaves it without a name. Put it on the
 * element that wraps the el-cascader; its value is the field's name.
 */
export const vCombobox: Directive<HTMLElement, string> = {
  mounted(el, binding) {
    const input = el.querySelector('input')
    if (!input) return
    input.setAttribute('role', 'combobox')
    input.setAttribute('aria-label', binding.value)
    // A combobox must say whether it is open; the cascader sets this only
    // once it has been opened (a dialog that opens with a value set).
    if (!input.hasAttribute('aria-expanded')) input.setAttribute('aria-expanded', 'false')
  },
}

/**
 * vNameInput names an input that an Element Plus component renders without
 * a name (the page-size select of el-pagination): the value is
 * [selector, name], the selector finding the input inside the element.
 */
export const vNameInput: Directive<HTMLElement, [string, string]> = {
  mounted(el, binding) {
    const [selector, name] = binding.value
    el.querySelector(selector)?.setAttribute('aria-label', name)
  },
}
