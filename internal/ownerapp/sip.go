package ownerapp

import (
	"context"
	"strconv"
	"strings"

	"linli/internal/actor"
	"linli/internal/ent"
	"linli/internal/ent/appsession"
	"linli/internal/ent/community"
	"linli/internal/ent/resident"
	"linli/internal/errs"
	"linli/internal/household"
)

// SIPAccount is the SIP account of one app installation (one sign-in): the
// app registers with it to receive door calls and to watch door stations.
// It stops working at sign-out, when the session expires, and as soon as
// the phone no longer belongs to a resident with APP呼叫.
type SIPAccount struct {
	Username    string         `json:"username" doc:"SIP 用户名，如 a12"`
	Password    string         `json:"password" doc:"SIP 密码（digest 认证）"`
	Communities []SIPCommunity `json:"communities" doc:"可接听呼叫的小区（有 APP呼叫 权限的房间所在小区）"`
}

// SIPCommunity is what the app needs to know of a community for calls.
type SIPCommunity struct {
	ID          int    `json:"id" doc:"小区编号"`
	Name        string `json:"name" doc:"小区名称"`
	UnlockDTMF  string `json:"unlock_dtmf" doc:"通话中开门：发送这些 DTMF 按键（RFC 4733 或 SIP INFO）"`
	RingSeconds int    `json:"ring_seconds" doc:"呼叫振铃时间（秒）"`
}

// newSIPPassword returns a fresh SIP password.
func newSIPPassword() string { return randomToken(18) }

// SIP returns the SIP account of the app session of authorization,
// creating its password if the session has none yet.
//
// Errors: errs.Unauthorized, errs.Forbidden (no room with APP呼叫).
func (s *Service) SIP(ctx context.Context, authorization string) (*SIPAccount, error) {
	token, _ := strings.CutPrefix(authorization, "Bearer ")
	sys := actor.AsSystem(ctx)
	sess, err := s.db.AppSession.Query().Where(appsession.TokenHash(hash(strings.TrimSpace(token))), appsession.ExpiresAtGT(s.now())).Only(sys)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.Unauthorized, "登录已失效，请重新登录")
	}
	if err != nil {
		return nil, err
	}
	cids, err := s.db.Resident.Query().Where(resident.Phone(sess.Phone), resident.AppCall(true), household.Current(s.now())).
		Unique(true).Select(resident.FieldCommunityID).Ints(sys)
	if err != nil {
		return nil, err
	}
	if len(cids) == 0 {
		return nil, errs.New(errs.Forbidden, "您的房间没有开通 APP呼叫，不能用 APP 接听门口机呼叫，请联系物业开通")
	}
	var pw string
	// ent reads a NULL column as a pointer to no bytes, never as nil.
	if sess.SipPasswordSealed == nil || len(*sess.SipPasswordSealed) == 0 {
		pw = newSIPPassword()
		if err := s.db.AppSession.UpdateOneID(sess.ID).SetSipPasswordSealed(s.box.Seal(pw)).Exec(sys); err != nil {
			return nil, err
		}
	} else if pw, err = s.box.Open(*sess.SipPasswordSealed); err != nil {
		return nil, err
	}
	cs, err := s.db.Community.Query().Where(community.IDIn(cids...)).Order(ent.Asc(community.FieldID)).All(sys)
	if err != nil {
		return nil, err
	}
	out := &SIPAccount{Username: "a" + strconv.Itoa(sess.ID), Password: pw, Communities: []SIPCommunity{}}
	for _, c := range cs {
		out.Communities = append(out.Communities, SIPCommunity{ID: c.ID, Name: c.Name, UnlockDTMF: c.UnlockDtmf, RingSeconds: c.RingSeconds})
	}
	return out, nil
}
