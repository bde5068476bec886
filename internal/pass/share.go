package pass

import (
	"bytes"
	"context"
	"fmt"
	"time"

	qrcode "github.com/yeqown/go-qrcode/v2"
	"github.com/yeqown/go-qrcode/writer/standard"

	"linli/internal/actor"
	"linli/internal/ent"
	entpass "linli/internal/ent/pass"
	"linli/internal/errs"
	"linli/internal/store"
)

// Shared is a pass as its public share page shows it to the visitor.
type Shared struct {
	VisitorName   string    `json:"visitor_name"`
	CommunityName string    `json:"community_name"`
	RoomLabel     string    `json:"room_label"`
	ValidFrom     time.Time `json:"valid_from"`
	ValidTo       time.Time `json:"valid_to"`
	PIN           string    `json:"pin" doc:"开门密码；通行证已撤销、用完或过期时为空"`
	QR            string    `json:"qr" doc:"二维码的内容；通行证已撤销、用完或过期时为空"`
	Uses          int       `json:"uses"`
	MaxUses       int       `json:"max_uses" doc:"0 表示不限次数"`
	Status        string    `json:"status" enum:"有效,已用完,已撤销,已过期,未开始"`
}

// shared finds the pass of share token.
func (s *Service) shared(ctx context.Context, token string) (*ent.Pass, error) {
	if len(token) < 16 || len(token) > 64 {
		return nil, errs.New(errs.NotFound, "通行证不存在或链接有误")
	}
	p, err := s.db.Pass.Query().Where(entpass.ShareToken(token)).Only(actor.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "通行证不存在或链接有误")
	}
	return p, err
}

// opensNow reports whether a pass in status may still be used.
func opensNow(status string) bool { return status == StatusValid || status == StatusUpcoming }

// Share returns the pass of share token for its public page; the PIN and
// the QR text only while the pass may still open.
//
// Errors: errs.NotFound.
func (s *Service) Share(ctx context.Context, token string) (*Shared, error) {
	p, err := s.shared(ctx, token)
	if err != nil {
		return nil, err
	}
	sys := actor.AsSystem(ctx)
	c, err := store.Community(sys, s.db.Client, p.CommunityID)
	if err != nil {
		return nil, err
	}
	labels, err := s.roomLabels(sys, []*ent.Pass{p})
	if err != nil {
		return nil, err
	}
	out := &Shared{VisitorName: p.VisitorName, CommunityName: c.Name, RoomLabel: labels[p.RoomID], ValidFrom: p.ValidFrom,
		ValidTo: p.ValidTo, Uses: p.Uses, MaxUses: p.MaxUses, Status: Status(p, s.now())}
	if opensNow(out.Status) {
		out.PIN, out.QR = p.Pin, QRText(p.QrToken)
	}
	return out, nil
}

// QRCode returns the PNG QR code of the pass of share token.
//
// Errors: errs.NotFound (unknown, or no longer usable).
func (s *Service) QRCode(ctx context.Context, token string) ([]byte, error) {
	p, err := s.shared(ctx, token)
	if err != nil {
		return nil, err
	}
	if !opensNow(Status(p, s.now())) {
		return nil, errs.New(errs.NotFound, "通行证已失效（已撤销、已用完或已过期），没有二维码")
	}
	qrc, err := qrcode.NewWith(QRText(p.QrToken), qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("pass: qr: %w", err)
	}
	var buf closingBuffer
	w := standard.NewWithWriter(&buf, standard.WithQRWidth(12), standard.WithBorderWidth(24),
		standard.WithBuiltinImageEncoder(standard.PNG_FORMAT))
	if err := qrc.Save(w); err != nil {
		return nil, fmt.Errorf("pass: qr: %w", err)
	}
	return buf.Bytes(), nil
}

type closingBuffer struct{ bytes.Buffer }

func (*closingBuffer) Close() error { return nil }
