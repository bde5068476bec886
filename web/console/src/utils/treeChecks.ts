import type { Directive } from 'vue'

// The observers of the elements carrying v-tree-checks, ended on unmount.
const observers = new WeakMap<HTMLElement, MutationObserver>()

function label(el: HTMLElement): void {
  for (const row of el.querySelectorAll<HTMLElement>('.el-tree-node__content')) {
    const input = row.querySelector('input.el-checkbox__original')
    const name = row.querySelector('.el-tree-node__label, [data-tree-label]')?.textContent?.trim()
    if (input && name && input.getAttribute('aria-label') !== `选择 ${name}`) {
      input.setAttribute('aria-label', `选择 ${name}`)
    }
  }
}

/**
 * vTreeChecks names the checkboxes of an Element Plus tree after their nodes
 * ("选择 1单元"): the tree renders them without a label, so a screen reader
 * announces only "checkbox". Nodes loaded later are named as they appear.
 * Put it on the element around the el-tree; a custom node slot marks its
 * name with data-tree-label.
 */
export const vTreeChecks: Directive<HTMLElement> = {
  mounted(el) {
    const observer = new MutationObserver(() => label(el))
    observer.observe(el, { childList: true, subtree: true })
    observers.set(el, observer)
    label(el)
  },
  beforeUnmount(el) {
    observers.get(el)?.disconnect()
    observers.delete(el)
  },
}
