import { watch, type Ref } from 'vue'

/**
 * Keeps `name` equal to `${number}${suffix}` (e.g. "3区") while the user types
 * the number, unless the user has edited the name into something else.
 */
export function useAutoName(
  number: () => number | null | undefined,
  name: Ref<string>,
  suffix: string,
): void {
  watch(number, (n, old) => {
    const previousAuto = old !== null && old !== undefined ? `${old}${suffix}` : ''
    if (name.value === '' || name.value === previousAuto) {
      name.value = n !== null && n !== undefined ? `${n}${suffix}` : ''
    }
  })
}
