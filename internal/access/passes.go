package access

import (
	"context"
	"fmt"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/pass"
)

// PassEntry is what a whitelist entry of kind pass (访客通行) adds: the
// device opens for the QR text or the PIN while valid_from ≤ now <
// valid_until and, when max_uses is not 0, fewer than max_uses uses are
// known (the server's count in uses, plus the device's own uses it has
// not yet seen counted).
type PassEntry struct {
	PassID  int    `json:"pass_id,omitempty" doc:"通行证编号（开锁事件的 pass_id）"`
	PIN     string `json:"pin,omitempty" doc:"通行证的 6 位开门密码"`
	QR      string `json:"qr,omitempty" doc:"通行证二维码的内容"`
	MaxUses int    `json:"max_uses,omitempty" doc:"可用次数；不出现或为 0 表示不限次数"`
	Uses    int    `json:"uses,omitempty" doc:"服务器已记录的使用次数（各设备合计）"`
	Visitor string `json:"visitor,omitempty" doc:"访客姓名（显示用）"`
}

// PassKey is the whitelist key of pass id.
func PassKey(id int) string { return fmt.Sprintf("pass:%d", id) }

// PassQR is the text a pass's QR code encodes for token.
func PassQR(token string) string { return "LINLI-PASS:" + token }

// PassUsable reports whether pass p may still open a door at now, leaving
// its window's start aside (a pass that has not started is on whitelists
// already; the device waits for valid_from): not revoked, not expired and
// not used up.
func PassUsable(p *ent.Pass, now time.Time) bool {
	return p.RevokedAt == nil && now.Before(p.ValidTo) && (p.MaxUses == 0 || p.Uses < p.MaxUses)
}

// passOpens reports whether pass p belongs on the whitelist of loc at now:
// the door stations of the pass's unit and the community's wall stations,
// or only the one door of a delivery code for one door. Indoor monitors
// and management stations never hold passes.
func passOpens(p *ent.Pass, loc Location, now time.Time) bool {
	if !PassUsable(p, now) || loc.RoomID != 0 {
		return false
	}
	if p.DoorID != nil {
		return loc.DeviceID == *p.DoorID
	}
	return loc.UnitID == p.UnitID || loc.UnitID == 0 && loc.Screen
}

func passEntry(p *ent.Pass) Entry {
	from, to := p.ValidFrom, p.ValidTo
	return Entry{Key: PassKey(p.ID), Kind: "pass", ValidFrom: &from, ValidUntil: &to, PassEntry: PassEntry{
		PassID: p.ID, PIN: p.Pin, QR: PassQR(p.QrToken), MaxUses: p.MaxUses, Uses: p.Uses, Visitor: p.VisitorName}}
}

// passesFor returns the pass entries loc holds now, of passes ids (every
// pass when ids is nil).
func (s *Service) passesFor(ctx context.Context, loc Location, ids []int) ([]Entry, error) {
	if loc.RoomID != 0 {
		return nil, nil
	}
	now := s.now()
	q := s.db.Pass.Query().Where(pass.CommunityID(loc.CommunityID), pass.RevokedAtIsNil(), pass.ValidToGT(now))
	if ids != nil {
		q.Where(pass.IDIn(ids...))
	}
	if loc.UnitID != 0 {
		q.Where(pass.Or(pass.UnitID(loc.UnitID), pass.DoorID(loc.DeviceID)))
	}
	ps, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, p := range ps {
		if passOpens(p, loc, now) {
			out = append(out, passEntry(p))
		}
	}
	return out, nil
}

// PassesChanged records, inside tx, that passes ids of community cid
// changed (created, used, revoked), so that devices fetch their current
// state: a used-up or revoked pass leaves every whitelist. Devices are
// nudged once tx commits.
func (s *Service) PassesChanged(ctx context.Context, tx *ent.Tx, cid int, ids ...int) error {
	return s.changeIn(ctx, tx, cid, func(*ent.Tx) ([]string, error) {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = PassKey(id)
		}
		return keys, nil
	})
}

// expiredPasses returns, by community, the passes whose window ended that
// devices have not been told about.
func (s *Service) expiredPasses(ctx context.Context, now time.Time) (map[int][]int, error) {
	ps, err := s.db.Pass.Query().Where(pass.ValidToLTE(now), pass.ExpirySynced(false)).Limit(5000).
		Select(pass.FieldID, pass.FieldCommunityID).All(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int][]int{}
	for _, p := range ps {
		out[p.CommunityID] = append(out[p.CommunityID], p.ID)
	}
	return out, nil
}

func markPassesExpired(ctx context.Context, tx *ent.Tx, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	return tx.Pass.Update().Where(pass.IDIn(ids...)).SetExpirySynced(true).Exec(ctx)
}

// revokePassesOf revokes, inside tx, the passes resident residentID made
// that can still open, giving why as who revoked them, and returns their keys.
func revokePassesOf(ctx context.Context, tx *ent.Tx, residentID int, now time.Time, why string) ([]string, error) {
	ids, err := tx.Pass.Query().Where(pass.ResidentID(residentID), pass.RevokedAtIsNil(), pass.ValidToGT(now)).IDs(ctx)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if err := tx.Pass.Update().Where(pass.IDIn(ids...)).SetRevokedAt(now).SetRevokedBy(why).Exec(ctx); err != nil {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = PassKey(id)
	}
	return keys, nil
}
