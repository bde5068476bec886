package ownerapp

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"linli/internal/actor"
	"linli/internal/dnd"
	"linli/internal/ent"
	"linli/internal/ent/appphone"
	"linli/internal/ent/appsession"
	"linli/internal/ent/invitation"
	"linli/internal/ent/resident"
	"linli/internal/phone"
	"linli/internal/store"
)

// Kinds of pushes.
const (
	PushCall   = "call"        // a door station calls the room now
	PushMissed = "missed_call" // nobody answered
	PushNotice = "notice"      // a new 小区通知 or 房间通知
	PushPass   = "pass_used"   // a visitor opened a door with a pass
	PushInvite = "invitation"  // the property approved or rejected an invitation
)

// Push is one notification to one signed-in app (session).
type Push struct {
	SessionID int
	Phone     string
	Platform  string // apns, fcm, hms, mipush or log
	Token     string
	Kind      string // PushCall, PushMissed, PushNotice
	Title     string
	Body      string
	// Data is what the app needs to act on it: call_id, room_id, notice_id.
	Data map[string]string
}

// Pusher delivers pushes to phones (APNs, FCM, a vendor's service).
type Pusher interface {
	Push(ctx context.Context, p Push) error
}

// LogPusher writes pushes to the server log instead of sending them, for
// installations without a push service.
type LogPusher struct{ Logger *slog.Logger }

// Push logs p.
func (l LogPusher) Push(ctx context.Context, p Push) error {
	l.Logger.InfoContext(ctx, "app push (no push service configured)", "kind", p.Kind, "session", p.SessionID,
		"phone", phone.Mask(p.Phone), "platform", p.Platform, "title", p.Title, "body", p.Body)
	return nil
}

// Pushes tells residents' apps what happened: a door calls their room, a
// call was missed, a notice was sent, a visitor used their pass, the
// property decided on their invitation.
type Pushes struct {
	db     *store.Store
	pusher Pusher
	logger *slog.Logger
	now    func() time.Time
}

// NewPushes returns Pushes that deliver through pusher.
func NewPushes(db *store.Store, pusher Pusher, logger *slog.Logger) *Pushes {
	return &Pushes{db: db, pusher: pusher, logger: logger, now: time.Now}
}

// pushTo sends a push to every signed-in app with a push token of phones,
// leaving out the phones whose 免打扰 is active when quiet is set. A failed
// push is logged: it never undoes what it tells about.
func (s *Pushes) pushTo(ctx context.Context, phones []string, quiet bool, p Push) {
	if len(phones) == 0 || s.pusher == nil {
		return
	}
	sys := actor.AsSystem(ctx)
	if quiet {
		rows, err := s.db.AppPhone.Query().Where(appphone.PhoneIn(phones...)).All(sys)
		if err != nil {
			s.logger.ErrorContext(ctx, "push: read 免打扰", "err", err)
			return
		}
		off := map[string]bool{}
		for _, r := range rows {
			off[r.Phone] = dnd.Active(SettingsOf(r), s.now())
		}
		var keep []string
		for _, ph := range phones {
			if !off[ph] {
				keep = append(keep, ph)
			}
		}
		phones = keep
	}
	ss, err := s.db.AppSession.Query().Where(appsession.PhoneIn(phones...), appsession.ExpiresAtGT(s.now()), appsession.PushTokenNEQ("")).
		Order(ent.Asc(appsession.FieldID)).All(sys)
	if err != nil {
		s.logger.ErrorContext(ctx, "push: find sessions", "err", err)
		return
	}
	for _, x := range ss {
		q := p
		q.SessionID, q.Phone, q.Platform, q.Token = x.ID, x.Phone, x.PushPlatform, x.PushToken
		if err := s.pusher.Push(ctx, q); err != nil {
			s.logger.WarnContext(ctx, "push failed", "session", x.ID, "kind", p.Kind, "err", err)
		}
	}
}

// roomPhones returns the phones of the residents of room roomID; with
// appCall only those with APP呼叫.
func (s *Pushes) roomPhones(ctx context.Context, roomIDs []int, appCall bool) []string {
	q := s.db.Resident.Query().Where(resident.RoomIDIn(roomIDs...), resident.PhoneNEQ(""))
	if appCall {
		q.Where(resident.AppCall(true))
	}
	ps, err := q.Unique(true).Select(resident.FieldPhone).Strings(actor.AsSystem(ctx))
	if err != nil {
		s.logger.ErrorContext(ctx, "push: find residents", "err", err)
	}
	return ps
}

// RoomCalled pushes an incoming door call of caller (a device's label) to
// room roomID to its residents with APP呼叫, except phones in 免打扰.
func (s *Pushes) RoomCalled(ctx context.Context, roomID int, caller, callID string) {
	s.pushTo(ctx, s.roomPhones(ctx, []int{roomID}, true), true, Push{Kind: PushCall, Title: "门口机来电", Body: caller + " 正在呼叫",
		Data: map[string]string{"room_id": strconv.Itoa(roomID), "call_id": callID}})
}

// RoomMissed pushes a missed door call to room roomID to its residents.
func (s *Pushes) RoomMissed(ctx context.Context, roomID int, caller, callID string) {
	s.pushTo(ctx, s.roomPhones(ctx, []int{roomID}, false), false, Push{Kind: PushMissed, Title: "未接来电", Body: caller + " 呼叫未接听",
		Data: map[string]string{"room_id": strconv.Itoa(roomID), "call_id": callID}})
}

// NoticeSent pushes a new notice: a 小区通知 to every resident of its
// community, a 房间通知 to the residents of its rooms.
func (s *Pushes) NoticeSent(ctx context.Context, n *ent.Notice, roomIDs []int) {
	var phones []string
	if len(roomIDs) > 0 {
		phones = s.roomPhones(ctx, roomIDs, false)
	} else {
		var err error
		phones, err = s.db.Resident.Query().Where(resident.CommunityID(n.CommunityID), resident.PhoneNEQ("")).
			Unique(true).Select(resident.FieldPhone).Strings(actor.AsSystem(ctx))
		if err != nil {
			s.logger.ErrorContext(ctx, "push: find residents", "err", err)
			return
		}
	}
	body := []rune(n.Content)
	if len(body) > 100 {
		body = append(body[:99], '…')
	}
	s.pushTo(ctx, phones, false, Push{Kind: PushNotice, Title: n.Title, Body: string(body),
		Data: map[string]string{"notice_id": strconv.Itoa(n.ID)}})
}

// PassUsed pushes the use of visitor pass p to the phone that made it.
func (s *Pushes) PassUsed(ctx context.Context, p *ent.Pass) {
	uses := strconv.Itoa(p.Uses) + " 次"
	if p.MaxUses > 0 {
		uses = strconv.Itoa(p.Uses) + "/" + strconv.Itoa(p.MaxUses) + " 次"
	}
	s.pushTo(ctx, []string{p.Phone}, false, Push{Kind: PushPass, Title: "访客已开门",
		Body: "访客 " + p.VisitorName + " 已用通行证开门（已用 " + uses + "）",
		Data: map[string]string{"pass_id": strconv.Itoa(p.ID), "room_id": strconv.Itoa(p.RoomID)}})
}

// InvitationDecided pushes the property's answer on invitation v to the
// 业主 who sent it.
func (s *Pushes) InvitationDecided(ctx context.Context, v *ent.Invitation) {
	inviter, err := s.db.Resident.Get(actor.AsSystem(ctx), v.InviterID)
	if err != nil || inviter.Phone == "" {
		return
	}
	body := "物业已通过您对 " + v.Name + " 的邀请，对方现在可以登录"
	if v.Status != invitation.StatusJoined {
		body = "物业未通过您对 " + v.Name + " 的邀请：" + v.Reason
	}
	s.pushTo(ctx, []string{inviter.Phone}, false, Push{Kind: PushInvite, Title: "邀请审核结果", Body: body,
		Data: map[string]string{"invitation_id": strconv.Itoa(v.ID), "room_id": strconv.Itoa(v.RoomID)}})
}
