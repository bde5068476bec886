// Package pass is visitor passes (访客通行): a resident makes a pass for a
// visitor — a QR code and a 6-digit PIN that open the doors of the
// resident's unit and the community's wall stations within a time window,
// for a number of uses or without limit — and shares it as a link. A
// delivery code (快递码) is the preset of one use, one door, 24 hours.
//
// Passes reach door stations through the versioned whitelist sync (entry
// kind pass, see internal/whitelist): creating, using and revoking a pass
// bump the community's sync version in the same transaction. Devices check
// the window and the uses offline and report every use as an unlock event
// with the pass id; the server counts uses once per device event, and a
// pass that is used up, revoked or expired leaves every whitelist (expiry
// through the janitor's whitelist.ExpireDue, every minute; devices also stop
// at valid_until on their own).
package pass

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"linli/internal/ent"
	"linli/internal/housing"
	"linli/internal/store"
	"linli/internal/whitelist"
)

// Limits of passes.
const (
	MaxAhead         = 7 * 24 * time.Hour // valid_to at most this far from now
	DeliveryWindow   = 24 * time.Hour
	MaxUses          = 100
	MaxActivePerRoom = 50 // passes of one room that may open at the same time
	pinAttempts      = 20 // fresh PINs tried before giving up on a crowded community
)

// Statuses of a pass as the app and the console show them.
const (
	StatusValid    = "有效"
	StatusUsedUp   = "已用完"
	StatusRevoked  = "已撤销"
	StatusExpired  = "已过期"
	StatusUpcoming = "未开始"
)

// Kinds of passes.
const (
	KindVisitor  = "visitor"
	KindDelivery = "delivery"
)

// Service makes, lists, counts and revokes passes.
type Service struct {
	db        *store.Store
	whitelist *whitelist.Service
	logger    *slog.Logger
	now       func() time.Time
	pins      func() (string, error) // draws a PIN (tests draw colliding ones)
	listener  Listener
}

// Listener hears of every counted use of a pass, after it is stored, with
// the pass as it is then (the app pushes it to the resident).
type Listener interface {
	PassUsed(ctx context.Context, p *ent.Pass)
}

// NewService returns a Service that tells wl about every change of a pass
// and listener (if not nil) about every use.
func NewService(db *store.Store, wl *whitelist.Service, listener Listener, logger *slog.Logger) *Service {
	return &Service{db: db, whitelist: wl, listener: listener, logger: logger, now: time.Now, pins: randomPIN}
}

// Status returns the status of p at now.
func Status(p *ent.Pass, now time.Time) string {
	switch {
	case p.RevokedAt != nil:
		return StatusRevoked
	case p.MaxUses > 0 && p.Uses >= p.MaxUses:
		return StatusUsedUp
	case !now.Before(p.ValidTo):
		return StatusExpired
	case now.Before(p.ValidFrom):
		return StatusUpcoming
	}
	return StatusValid
}

// Pass is a pass as the app shows it.
type Pass struct {
	ID          int       `json:"id"`
	RoomID      int       `json:"room_id"`
	RoomLabel   string    `json:"room_label" doc:"房间，如 【阳光花园】-1区-1栋-1单元-0502"`
	VisitorName string    `json:"visitor_name" doc:"访客姓名"`
	Note        string    `json:"note" doc:"备注"`
	Kind        string    `json:"kind" enum:"visitor,delivery" doc:"visitor 访客；delivery 快递"`
	DoorID      *int      `json:"door_id,omitempty" doc:"只开这一台门禁设备（快递码）"`
	ValidFrom   time.Time `json:"valid_from"`
	ValidTo     time.Time `json:"valid_to"`
	MaxUses     int       `json:"max_uses" doc:"可用次数，0 表示不限次数"`
	Uses        int       `json:"uses" doc:"已使用次数（所有门禁设备合计）"`
	PIN         string    `json:"pin" doc:"6 位开门密码"`
	QR          string    `json:"qr" doc:"二维码的内容"`
	ShareToken  string    `json:"share_token"`
	ShareURL    string    `json:"share_url" doc:"分享页面，如 /h5/pass/<share_token>"`
	Status      string    `json:"status" enum:"有效,已用完,已撤销,已过期,未开始"`
	CreatedAt   time.Time `json:"created_at"`
}

// views returns the app form of passes.
func (s *Service) views(ctx context.Context, ps []*ent.Pass) ([]Pass, error) {
	labels, err := s.roomLabels(ctx, ps)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Pass, len(ps))
	for i, p := range ps {
		out[i] = Pass{ID: p.ID, RoomID: p.RoomID, RoomLabel: labels[p.RoomID], VisitorName: p.VisitorName, Note: p.Note,
			Kind: string(p.Kind), DoorID: p.DoorID, ValidFrom: p.ValidFrom, ValidTo: p.ValidTo, MaxUses: p.MaxUses, Uses: p.Uses,
			PIN: p.Pin, QR: QRText(p.QrToken), ShareToken: p.ShareToken, ShareURL: ShareURL(p.ShareToken),
			Status: Status(p, now), CreatedAt: p.CreatedAt}
	}
	return out, nil
}

// ShareURL is the path of the public page that shows a shared pass.
func ShareURL(token string) string { return "/h5/pass/" + token }

// roomLabels returns the labels of the rooms of ps, which may be of
// several communities.
func (s *Service) roomLabels(ctx context.Context, ps []*ent.Pass) (map[int]string, error) {
	byCommunity := map[int][]int{}
	for _, p := range ps {
		byCommunity[p.CommunityID] = append(byCommunity[p.CommunityID], p.RoomID)
	}
	out := map[int]string{}
	for cid, rooms := range byCommunity {
		c, err := store.Community(ctx, s.db.Client, cid)
		if err != nil {
			return nil, err
		}
		labels, err := housing.RoomLabels(ctx, s.db.Client, c.Name, rooms)
		if err != nil {
			return nil, err
		}
		for id, l := range labels {
			out[id] = l
		}
	}
	return out, nil
}

// randomToken returns n random bytes as URL-safe text: unguessable.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomPIN returns 6 random digits.
func randomPIN() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
