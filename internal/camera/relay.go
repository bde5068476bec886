package camera

import (
	"errors"
	"strings"

	"linli/internal/errs"
	"linli/internal/media"
)

// MediaRelay is r as live view uses it, its errors in the shared
// vocabulary: limits are errs.TooMany, offers it cannot answer errs.Invalid.
func MediaRelay(r *media.Relay) Relay { return mediaRelay{r} }

type mediaRelay struct{ r *media.Relay }

func (m mediaRelay) NewStream(communityID int, label string, audioPT uint8) (Stream, error) {
	st, err := m.r.NewStream(communityID, label, audioPT)
	if err != nil {
		if errors.Is(err, media.ErrLimit) {
			return nil, &errs.Error{Code: errs.TooMany, Message: err.Error(), Err: err}
		}
		return nil, err
	}
	return mediaStream{st}, nil
}

type mediaStream struct{ *media.Stream }

func (m mediaStream) AddViewer(offer string) (Viewer, string, error) {
	v, answer, err := m.Stream.AddViewer(offer, media.ViewerOptions{Name: "camera viewer"})
	switch {
	case err == nil:
		return v, answer, nil
	case errors.Is(err, media.ErrNoCommonCodec), strings.HasPrefix(err.Error(), "浏览器发来的 SDP"):
		return nil, "", &errs.Error{Code: errs.Invalid, Message: err.Error(),
			Fields: []errs.FieldError{{Field: "sdp", Message: err.Error()}}, Err: err}
	default:
		return nil, "", &errs.Error{Code: errs.Unavailable, Message: "浏览器连接实时画面失败，请重试", Err: err}
	}
}
