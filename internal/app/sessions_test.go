package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/ent/session"
)

type sessionItem struct {
	ID      int    `json:"id"`
	Device  string `json:"device"`
	IP      string `json:"ip"`
	Current bool   `json:"current"`
}

func mySessions(t *testing.T, c *apptest.Client) []sessionItem {
	t.Helper()
	var v struct{ Items []sessionItem }
	c.Must(200, "GET", "/api/v1/me/sessions", nil).JSON(t, &v)
	return v.Items
}

const firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"

// TestSignedInSessions: 个人信息中心 lists the account's browsers with their
// device and address and marks this one; 退出 ends one, 全部退出 all the
// others; nobody ends another account's session.
func TestSignedInSessions(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "会话小区", "SE")
		b := s.NewCommunity(t, op, "会话乙小区", "SF")
		m := a.Manager
		firefox, phone := s.Client("firefox"), s.Client("phone")
		firefox.DoHeaders("POST", "/api/v1/session", map[string]string{"User-Agent": firefoxUA},
			map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		phone.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})

		list := mySessions(t, m)
		if len(list) != 3 {
			t.Fatalf("%d sessions, want 3: %+v", len(list), list)
		}
		var current, ff *sessionItem
		for i := range list {
			if list[i].Current {
				current = &list[i]
			}
			if list[i].Device == "Firefox 127 · Linux" {
				ff = &list[i]
			}
			if list[i].IP != "127.0.0.1" {
				t.Errorf("address %q", list[i].IP)
			}
		}
		if current == nil || ff == nil || ff.Current {
			t.Fatalf("sessions %+v", list)
		}

		// Another account cannot end it.
		b.Manager.Must(404, "DELETE", fmt.Sprintf("/api/v1/me/sessions/%d", ff.ID), nil)
		firefox.Must(200, "GET", "/api/v1/me", nil)
		// 退出 ends that browser's session at once.
		m.Must(204, "DELETE", fmt.Sprintf("/api/v1/me/sessions/%d", ff.ID), nil)
		firefox.Must(401, "GET", "/api/v1/me", nil)
		phone.Must(200, "GET", "/api/v1/me", nil)
		// 全部退出 ends the others and keeps this one.
		var ended struct{ Ended int }
		m.Must(200, "DELETE", "/api/v1/me/sessions", nil).JSON(t, &ended)
		if ended.Ended != 1 {
			t.Errorf("ended %d sessions, want 1", ended.Ended)
		}
		phone.Must(401, "GET", "/api/v1/me", nil)
		if list := mySessions(t, m); len(list) != 1 || !list[0].Current {
			t.Errorf("after 全部退出: %+v", list)
		}
		b.Manager.Must(200, "GET", "/api/v1/me", nil)
	})
}

// TestDisableAccount: disabling an account ends its sessions at once and
// its sign-in is answered "账号已停用"; enabled again, it signs in.
func TestDisableAccount(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "停用小区", "DI")
		var me struct{ ID int }
		a.Manager.Must(200, "GET", "/api/v1/me", nil).JSON(t, &me)
		other := s.Client("other browser")
		other.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword, "remember": true})

		a.Manager.Must(403, "PUT", fmt.Sprintf("/api/v1/accounts/%d/disabled", me.ID), map[string]any{"disabled": true})
		var acc struct{ Disabled bool }
		op.Must(200, "PUT", fmt.Sprintf("/api/v1/accounts/%d/disabled", me.ID), map[string]any{"disabled": true}).JSON(t, &acc)
		if !acc.Disabled {
			t.Error("the answer does not say disabled")
		}
		a.Manager.Must(401, "GET", "/api/v1/me", nil)
		other.Must(401, "GET", "/api/v1/me", nil)
		if n := s.App.Store().Session.Query().Where(session.AccountID(me.ID)).CountX(actor.AsSystem(context.Background())); n != 0 {
			t.Errorf("%d sessions remain after disabling", n)
		}
		r := s.Client("again").Do("POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		if r.Status != 401 || !strings.Contains(r.Detail(), "账号已停用") {
			t.Errorf("sign-in of a disabled account: %d %s", r.Status, r.Body)
		}
		// A wrong password still says only that it is wrong.
		if r := s.Client("guess").Do("POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": "wrong-guess"}); strings.Contains(r.Detail(), "停用") {
			t.Errorf("a wrong password learns the account is disabled: %s", r.Body)
		}
		var list struct {
			Items []struct {
				ID       int
				Disabled bool
			}
		}
		op.Must(200, "GET", fmt.Sprintf("/api/v1/accounts?community_id=%d", a.ID), nil).JSON(t, &list)
		found := false
		for _, it := range list.Items {
			if it.ID == me.ID {
				found = it.Disabled
			}
		}
		if !found {
			t.Error("the account list does not show it disabled")
		}
		// The operator cannot disable itself.
		var opMe struct{ ID int }
		op.Must(200, "GET", "/api/v1/me", nil).JSON(t, &opMe)
		op.Must(409, "PUT", fmt.Sprintf("/api/v1/accounts/%d/disabled", opMe.ID), map[string]any{"disabled": true})

		op.Must(200, "PUT", fmt.Sprintf("/api/v1/accounts/%d/disabled", me.ID), map[string]any{"disabled": false})
		s.Client("back").Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		// Both are in 操作日志.
		p := auditLog(t, op, url.Values{"q": {"set-account-disabled"}})
		if p.Total != 4 { // the staff member's refused try, disable, the operator's refused self-disable, enable
			t.Errorf("%d entries of set-account-disabled: %+v", p.Total, p.Items)
		}
	})
}
