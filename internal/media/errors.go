package media

import (
	"errors"
	"fmt"
)

// ErrLimit is matched (errors.Is) by every *LimitError: the server or the
// community already carries as many streams as allowed.
var ErrLimit = errors.New("同时进行的视频通话已达上限，请稍后再试")

// ErrNoCommonCodec is matched by the error AddViewer returns when the
// browser's offer lacks H.264 constrained baseline (packetization-mode=1)
// video or the stream's G.711 audio; the error's text names what is missing.
var ErrNoCommonCodec = errors.New("浏览器与设备没有共同的音视频编码")

// ErrPortsExhausted is matched by the error NewRTPStream returns when no
// RTP/RTCP port pair is free in the configured range.
var ErrPortsExhausted = errors.New("媒体端口已用完")

// LimitError tells which limit refused a new stream.
type LimitError struct {
	Scope string // "server" or "community"
	N     int    // the limit
}

// Error is the Chinese text shown to the user.
func (e *LimitError) Error() string {
	if e.Scope == "community" {
		return fmt.Sprintf("本小区同时进行的视频通话已达上限（%d 路），请稍后再试", e.N)
	}
	return fmt.Sprintf("同时进行的视频通话已达上限（%d 路），请稍后再试", e.N)
}

// Is makes errors.Is(err, ErrLimit) hold.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// codecError is the Chinese reason an offer cannot be answered.
type codecError struct{ msg string }

func (e *codecError) Error() string        { return e.msg }
func (e *codecError) Is(target error) bool { return target == ErrNoCommonCodec }

// portError says which range ran out.
type portError struct{ min, max int }

func (e *portError) Error() string {
	return fmt.Sprintf("媒体端口已用完（范围 %d-%d），请稍后再试或扩大 LINLI_RTP_PORTS", e.min, e.max)
}
func (e *portError) Is(target error) bool { return target == ErrPortsExhausted }
