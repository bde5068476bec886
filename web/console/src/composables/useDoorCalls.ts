// 门口呼叫: the page's side of docs/webcall.md. One WebSocket per page
// (ticket first, reconnect with backoff), one RTCPeerConnection per call or
// 监视 session (the browser offers: video recvonly, audio sendrecv without a
// track until 接听 / 对讲), the ring sound, and the clock for timers.
import { computed, markRaw, onBeforeUnmount, reactive, ref, watch, type Ref } from 'vue'
import { client, problemMessage, toProblem } from '@/api/client'
import { useRinger } from '@/composables/useRinger'
import { iceGathered, preferH264 } from '@/utils/webrtc'

/** A door call ringing or answered here, or a 监视 session. */
export interface DoorSession {
  id: string
  kind: 'call' | 'watch'
  /** Caller label, e.g. 【测试小区1】-1区-2栋-1单元-门口机1. */
  from: string
  deviceId: number
  startedAt: number
  /** ringing → answering → answered (calls); watching (监视). */
  state: 'ringing' | 'answering' | 'answered' | 'watching'
  answeredAt: number | null
  /** 监视: when the server ends the session unless extended (ms since epoch). */
  expiresAt: number | null
  /** The remote video and audio, once the server answered the offer. */
  stream: MediaStream | null
  /** A 开门 is on its way. */
  opening: boolean
  /** 对讲 on (监视). */
  talking: boolean
  /** The microphone was refused: listening only. */
  micRefused: boolean
}

/** What ended a call here, for the list of outcomes. */
export interface DoorOutcome {
  id: string
  from: string
  reason: string
  at: number
}

export type Presence = 'off' | 'connecting' | 'ready'

interface ServerMessage {
  type: string
  call?: string
  from?: string
  device_id?: number
  started_at?: string
  expires_at?: string
  sdp?: string
  reason?: string
  message?: string
  name?: string
  community?: string
}

export interface DoorCallEvents {
  /** A message for the person (开门 result, refusals…). */
  notify?: (kind: 'success' | 'error' | 'info', text: string) => void
}

const BACKOFF_MAX_MS = 30000
const WATCH_EXTEND_MS = 60000
const ICE_GATHER_MS = 5000
const OUTCOMES_KEPT = 8

/**
 * useDoorCalls keeps the page reachable for the community in `communityId`
 * (null: not connected) and holds its calls and 监视 sessions.
 */
export function useDoorCalls(communityId: Ref<number | null>, events: DoorCallEvents = {}) {
  const notify = events.notify ?? (() => {})
  const presence = ref<Presence>('off')
  const readyName = ref('')
  /** Why the last connection attempt failed (shown under the status). */
  const connectError = ref('')
  const sessions = reactive<DoorSession[]>([])
  const outcomes = reactive<DoorOutcome[]>([])
  const selectedId = ref<string | null>(null)
  /** Device ids whose `watch` awaits `watching` or `error`. */
  const pendingWatch = reactive(new Set<number>())
  const now = ref(Date.now())

  const peers = new Map<string, RTCPeerConnection>()
  const mics = new Map<string, MediaStreamTrack>()
  let ws: WebSocket | null = null
  let generation = 0
  let attempt = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const calls = computed(() => sessions.filter((s) => s.kind === 'call'))
  const watches = computed(() => sessions.filter((s) => s.kind === 'watch'))
  const selected = computed(
    () => calls.value.find((s) => s.id === selectedId.value) ?? calls.value[0] ?? null,
  )
  const ringing = computed(() => calls.value.some((s) => s.state === 'ringing'))

  const clock = setInterval(() => {
    now.value = Date.now()
  }, 1000)

  // ---- the socket ----

  function send(msg: Record<string, unknown>): boolean {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false
    ws.send(JSON.stringify(msg))
    return true
  }

  async function ticket(cid: number): Promise<string> {
    const { data, error, response } = await client.POST('/api/v1/webcall/ticket', { body: { community_id: cid } })
    if (error || !data?.ticket) {
      // Not allowed here (403/404): try again seldom, not every few seconds.
      if (response.status === 403 || response.status === 404) attempt = Math.max(attempt, 5)
      throw new Error(problemMessage(toProblem(error, response)))
    }
    return data.ticket
  }

  async function connect(): Promise<void> {
    const cid = communityId.value
    const mine = ++generation
    closeSocket()
    if (cid === null || stopped) {
      presence.value = 'off'
      return
    }
    presence.value = 'connecting'
    let t: string
    try {
      t = await ticket(cid)
    } catch (e) {
      if (mine !== generation) return
      connectError.value = e instanceof Error ? e.message : '网络异常，请稍后重试'
      retry(mine)
      return
    }
    if (mine !== generation) return
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    const sock = new WebSocket(`${scheme}://${location.host}/webcall/ws?ticket=${encodeURIComponent(t)}`)
    ws = sock
    sock.onmessage = (ev) => {
      if (mine !== generation || typeof ev.data !== 'string') return
      let msg: ServerMessage
      try {
        msg = JSON.parse(ev.data) as ServerMessage
      } catch {
        return
      }
      void handle(msg)
    }
    sock.onclose = () => {
      if (mine !== generation) return
      ws = null
      dropAll('连接中断')
      retry(mine)
    }
  }

  function retry(mine: number): void {
    if (stopped || mine !== generation) return
    presence.value = 'connecting'
    const delay = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** attempt)
    attempt++
    clearTimeout(retryTimer)
    retryTimer = setTimeout(() => {
      if (mine === generation) void connect()
    }, delay)
  }

  function closeSocket(): void {
    clearTimeout(retryTimer)
    if (ws) {
      ws.onclose = null
      ws.onmessage = null
      ws.close()
      ws = null
    }
    dropAll(null)
  }

  // ---- messages from the server ----

  async function handle(msg: ServerMessage): Promise<void> {
    const s = msg.call ? find(msg.call) : undefined
    switch (msg.type) {
      case 'ready':
        presence.value = 'ready'
        readyName.value = msg.name ?? ''
        connectError.value = ''
        attempt = 0
        break
      case 'ring': {
        if (!msg.call || s) return
        const started = msg.started_at ? Date.parse(msg.started_at) : NaN
        sessions.push(
          newSession(msg.call, 'call', msg.from ?? '', msg.device_id ?? 0, Number.isNaN(started) ? Date.now() : started),
        )
        if (selectedId.value === null || !find(selectedId.value)) selectedId.value = msg.call
        await offer(msg.call)
        break
      }
      case 'watching': {
        if (!msg.call) return
        const expires = msg.expires_at ? Date.parse(msg.expires_at) : NaN
        const at = plausibleExpiry(expires)
        if (s) {
          s.expiresAt = at
          return
        }
        if (msg.device_id !== undefined) pendingWatch.delete(msg.device_id)
        const w = newSession(msg.call, 'watch', msg.from ?? '', msg.device_id ?? 0, Date.now())
        w.state = 'watching'
        w.expiresAt = at
        sessions.push(w)
        await offer(msg.call)
        break
      }
      case 'answer': {
        const pc = msg.call ? peers.get(msg.call) : undefined
        if (!pc || !msg.sdp) return
        try {
          await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp })
        } catch {
          notify('error', '视频连接失败：无法识别服务器的应答')
        }
        break
      }
      case 'accepted':
        if (s) {
          s.state = 'answered'
          s.answeredAt = Date.now()
        }
        break
      case 'opened':
        if (s) s.opening = false
        notify('success', '门已打开')
        break
      case 'ended':
        if (s) end(s, msg.reason || '通话已结束')
        break
      case 'error':
        if (s) s.opening = false
        if (!msg.call) pendingWatch.clear()
        notify('error', msg.message || '操作失败')
        break
    }
  }

  function plausibleExpiry(expires: number): number {
    // The server's clock may differ from the browser's: a deadline that is
    // already past or far away is taken as the standard 60 s from now.
    const left = expires - Date.now()
    if (Number.isNaN(expires) || left <= 0 || left > 10 * WATCH_EXTEND_MS) return Date.now() + WATCH_EXTEND_MS
    return expires
  }

  function newSession(id: string, kind: DoorSession['kind'], from: string, deviceId: number, startedAt: number): DoorSession {
    return {
      id,
      kind,
      from,
      deviceId,
      startedAt,
      state: 'ringing',
      answeredAt: null,
      expiresAt: null,
      stream: null,
      opening: false,
      talking: false,
      micRefused: false,
    }
  }

  function find(id: string): DoorSession | undefined {
    return sessions.find((x) => x.id === id)
  }

  // ---- WebRTC ----

  async function offer(id: string): Promise<void> {
    const pc = new RTCPeerConnection()
    peers.set(id, pc)
    const video = pc.addTransceiver('video', { direction: 'recvonly' })
    pc.addTransceiver('audio', { direction: 'sendrecv' })
    preferH264(video)
    const stream = markRaw(new MediaStream())
    pc.ontrack = (ev) => {
      stream.addTrack(ev.track)
      const s = find(id)
      if (s) s.stream = stream
    }
    try {
      await pc.setLocalDescription(await pc.createOffer())
      await iceGathered(pc, ICE_GATHER_MS)
    } catch {
      notify('error', '浏览器无法建立视频连接')
      return
    }
    if (peers.get(id) !== pc || !pc.localDescription) return
    send({ type: 'offer', call: id, sdp: pc.localDescription.sdp })
  }

  /** Puts the microphone on the call's audio sender; false when refused. */
  async function attachMic(id: string): Promise<boolean> {
    const pc = peers.get(id)
    if (!pc) return false
    let track = mics.get(id)
    if (!track) {
      try {
        const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: false })
        track = media.getAudioTracks()[0]
      } catch {
        return false
      }
      if (!track) return false
      if (!peers.has(id)) {
        track.stop()
        return false
      }
      mics.set(id, track)
    }
    track.enabled = true
    const sender = pc.getTransceivers().find((t) => t.receiver.track.kind === 'audio')?.sender
    if (!sender) return false
    await sender.replaceTrack(track)
    return true
  }

  async function detachMic(id: string): Promise<void> {
    const track = mics.get(id)
    mics.delete(id)
    const sender = peers.get(id)?.getTransceivers().find((t) => t.receiver.track.kind === 'audio')?.sender
    if (sender) await sender.replaceTrack(null).catch(() => {})
    track?.stop()
  }

  // ---- actions ----

  /** 接听: the microphone first (listen-only when refused), then accept. */
  async function accept(id: string): Promise<void> {
    const s = find(id)
    if (!s || s.state !== 'ringing') return
    s.state = 'answering'
    selectedId.value = id
    const mic = await attachMic(id)
    if (!find(id)) return
    if (!mic) {
      s.micRefused = true
      notify('info', '未获得麦克风权限，只能听到对方的声音')
    }
    if (!send({ type: 'accept', call: id })) {
      s.state = 'ringing'
      notify('error', '连接已中断，请稍后重试')
    }
  }

  function hangup(id: string): void {
    const s = find(id)
    if (!s) return
    if (!send({ type: 'hangup', call: id })) end(s, s.kind === 'watch' ? '监视已结束' : '已挂断')
  }

  function open(id: string): void {
    const s = find(id)
    if (!s || s.opening) return
    if (!send({ type: 'open', call: id })) {
      notify('error', '连接已中断，请稍后重试')
      return
    }
    s.opening = true
  }

  function watchDevice(deviceId: number): void {
    if (pendingWatch.has(deviceId)) return
    if (!send({ type: 'watch', device_id: deviceId })) {
      notify('error', '尚未连接到服务器，请稍后重试')
      return
    }
    pendingWatch.add(deviceId)
  }

  function extend(id: string): void {
    const s = find(id)
    if (!s || !send({ type: 'extend', call: id })) return
    // The server answers with `watching` and the new deadline; until then, 60 s from now.
    s.expiresAt = Date.now() + WATCH_EXTEND_MS
  }

  async function talk(id: string, on: boolean): Promise<void> {
    const s = find(id)
    if (!s) return
    if (on) {
      if (!(await attachMic(id))) {
        s.micRefused = true
        notify('error', '未获得麦克风权限，无法对讲')
        return
      }
    } else {
      await detachMic(id)
    }
    if (send({ type: 'talk', call: id, on })) s.talking = on
  }

  // ---- ending ----

  function end(s: DoorSession, reason: string): void {
    const i = sessions.indexOf(s)
    if (i >= 0) sessions.splice(i, 1)
    const track = mics.get(s.id)
    track?.stop()
    mics.delete(s.id)
    peers.get(s.id)?.close()
    peers.delete(s.id)
    outcomes.unshift({ id: s.id, from: s.from, reason, at: Date.now() })
    outcomes.splice(OUTCOMES_KEPT)
    if (selectedId.value === s.id) selectedId.value = calls.value[0]?.id ?? null
  }

  /** Ends every session (the socket closed); reason null: silently. */
  function dropAll(reason: string | null): void {
    pendingWatch.clear()
    for (const s of [...sessions]) {
      if (reason) end(s, reason)
      else {
        mics.get(s.id)?.stop()
        peers.get(s.id)?.close()
      }
    }
    if (!reason) {
      sessions.splice(0)
      mics.clear()
      peers.clear()
    }
  }

  // ---- the ring sound ----
  const ringer = useRinger(ringing)

  watch(communityId, () => {
    attempt = 0
    void connect()
  })
  if (communityId.value !== null) void connect()

  onBeforeUnmount(() => {
    stopped = true
    generation++
    closeSocket()
    clearInterval(clock)
    ringer.stop()
  })

  return {
    presence,
    readyName,
    connectError,
    sessions,
    calls,
    watches,
    outcomes,
    selected,
    selectedId,
    pendingWatch,
    now,
    soundAllowed: ringer.allowed,
    accept,
    hangup,
    open,
    watch: watchDevice,
    extend,
    talk,
    /** The RTCPeerConnection of a session (for diagnostics). */
    peer: (id: string) => peers.get(id),
  }
}
