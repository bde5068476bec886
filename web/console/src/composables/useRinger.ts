// The ring of 门口呼叫: a WebAudio beep, which browsers allow only after a gesture.
import { ref, watch, type Ref } from 'vue'

/**
 * useRinger beeps while `ringing` is true. Browsers allow sound only after
 * a gesture: the AudioContext is made on the first click or key press, and
 * `allowed` says whether that has happened.
 */
export function useRinger(ringing: Ref<boolean>) {
  const allowed = ref(false)
  let ctx: AudioContext | null = null
  let timer: ReturnType<typeof setInterval> | undefined

  // Sound is allowed once the context runs; a gesture that did not start it
  // leaves the listeners for the next one.
  const unlock = () => {
    try {
      ctx ??= new AudioContext()
    } catch {
      return
    }
    const c = ctx
    void c.resume().then(() => {
      if (c.state !== 'running' || allowed.value) return
      allowed.value = true
      document.removeEventListener('pointerdown', unlock, true)
      document.removeEventListener('keydown', unlock, true)
      if (ringing.value) start()
    }, () => {})
  }
  document.addEventListener('pointerdown', unlock, true)
  document.addEventListener('keydown', unlock, true)

  // One ring: two short tones, repeated every 2 s.
  function beep(): void {
    if (!ctx || ctx.state !== 'running') return
    for (const offset of [0, 0.4]) {
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      osc.frequency.value = 880
      const t0 = ctx.currentTime + offset
      gain.gain.setValueAtTime(0.0001, t0)
      gain.gain.exponentialRampToValueAtTime(0.25, t0 + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.3)
      osc.connect(gain).connect(ctx.destination)
      osc.start(t0)
      osc.stop(t0 + 0.32)
    }
  }
  function start(): void {
    if (timer !== undefined || !ctx) return
    beep()
    timer = setInterval(beep, 2000)
  }
  function silence(): void {
    clearInterval(timer)
    timer = undefined
  }
  watch(ringing, (on) => (on ? start() : silence()))

  return {
    allowed,
    stop(): void {
      silence()
      document.removeEventListener('pointerdown', unlock, true)
      document.removeEventListener('keydown', unlock, true)
      void ctx?.close()
      ctx = null
    },
  }
}
