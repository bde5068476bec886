// WebRTC helpers of the browser's side of docs/webcall.md.

/** Offers H.264 first: the door stations send H.264 and nothing is transcoded. */
export function preferH264(t: RTCRtpTransceiver): void {
  const caps = typeof RTCRtpReceiver.getCapabilities === 'function' ? RTCRtpReceiver.getCapabilities('video') : null
  if (!caps || typeof t.setCodecPreferences !== 'function') return
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264')
  const rest = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== 'video/h264')
  if (h264.length === 0) return
  try {
    t.setCodecPreferences([...h264, ...rest])
  } catch {
    // keep the browser's order
  }
}

/** Waits until the offer carries all ICE candidates (no trickle), or `ms`. */
export function iceGathered(pc: RTCPeerConnection, ms: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return
      pc.removeEventListener('icegatheringstatechange', done)
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      pc.removeEventListener('icegatheringstatechange', done)
      resolve()
    }, ms)
    pc.addEventListener('icegatheringstatechange', done)
  })
}
