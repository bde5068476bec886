package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "锁定小区", "L")
		c := s.Client("attacker")
		// Nine failures: still only "wrong password".
		for i := range 9 {
			r := c.Login(a.ManagerAccount, fmt.Sprintf("wrong-%d", i), false)
			if r.Status != 401 || r.Detail() != "账号或密码错误" {
				t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		// The tenth locks the account.
		r := c.Login(a.ManagerAccount, "wrong-9", false)
		if r.Status != 429 || !strings.Contains(r.Detail(), "锁定 10 分钟") {
			t.Fatalf("tenth failure: %d %s, want 429 locked", r.Status, r.Body)
		}
		locked := r.Detail()
		// Even the right password is refused while locked.
		if r := c.Login(a.ManagerAccount, apptest.StaffPassword, false); r.Status != 429 || r.Detail() != locked {
			t.Fatalf("right password while locked: %d %s", r.Status, r.Body)
		}
		// An account that does not exist answers exactly the same way.
		for i := range 10 {
			c.Login("nobody-here", fmt.Sprintf("x-%d", i), false)
		}
		if r := c.Login("nobody-here", "x", false); r.Status != 429 || r.Detail() != locked {
			t.Fatalf("unknown account after 11 tries: %d %s, want the same lock message", r.Status, r.Body)
		}
		// Other accounts are not affected.
		if r := s.Client("op2").Login("admin", apptest.AdminPassword, false); r.Status != 200 {
			t.Fatalf("operator login while another account is locked: %d %s", r.Status, r.Body)
		}
	})
}

// TestChangePasswordCountsFailures: a wrong old password given to 修改密码
// counts as a failed login, so a browser left signed in does not let
// anyone try passwords without limit.
func TestChangePasswordCountsFailures(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "改密小区", "P")
		for i := range 10 {
			r := a.Manager.Do("PUT", "/api/v1/me/password", map[string]any{"old_password": fmt.Sprintf("wrong-%d", i), "new_password": "Brand-New-2026x"})
			if r.Status != 422 || !strings.Contains(string(r.Body), "原密码不正确") {
				t.Fatalf("wrong old password %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		r := a.Manager.Do("PUT", "/api/v1/me/password", map[string]any{"old_password": "wrong-10", "new_password": "Brand-New-2026x"})
		if r.Status != 429 || !strings.Contains(r.Detail(), "锁定") {
			t.Fatalf("after ten wrong old passwords: %d %s, want 429 locked", r.Status, r.Body)
		}
		// The right one is refused too while locked, and so is a new login.
		a.Manager.Must(429, "PUT", "/api/v1/me/password", map[string]any{"old_password": apptest.StaffPassword, "new_password": "Brand-New-2026x"})
		if r := s.Client("other").Login(a.ManagerAccount, apptest.StaffPassword, false); r.Status != 429 {
			t.Fatalf("login after the lock: %d %s", r.Status, r.Body)
		}
	})
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "会话小区", "S")

		// Rotation: a login replaces the session the browser had.
		c := s.Client("browser")
		c.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		first := c.Cookie("linli_session")
		c.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		second := c.Cookie("linli_session")
		if first == "" || first == second {
			t.Fatalf("session not rotated at login: %q then %q", first, second)
		}
		old := s.Client("old cookie")
		old.SetCookie("linli_session", first)
		old.Must(401, "GET", "/api/v1/me", nil)
		c.Must(200, "GET", "/api/v1/me", nil)

		// Cookie flags; 自动登录 makes it persistent.
		r := s.Client("flags").Login(a.ManagerAccount, apptest.StaffPassword, false)
		sc := r.Header.Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Errorf("session cookie %q lacks %s", sc, want)
			}
		}
		if strings.Contains(sc, "Max-Age") {
			t.Errorf("browser-session cookie %q should have no Max-Age", sc)
		}
		r = s.Client("remember").Login(a.ManagerAccount, apptest.StaffPassword, true)
		if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "Max-Age=259") {
			t.Errorf("remembered cookie %q should last 30 days", sc)
		}

		// Logout kills the session on the server, not only in the browser.
		token := c.Cookie("linli_session")
		c.Must(204, "DELETE", "/api/v1/session", nil)
		replay := s.Client("replay")
		replay.SetCookie("linli_session", token)
		replay.Must(401, "GET", "/api/v1/me", nil)

		// A password change ends every other session; this browser continues.
		one, two := s.Client("one"), s.Client("two")
		one.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		two.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		oneBefore := one.Cookie("linli_session")
		one.Must(200, "PUT", "/api/v1/me/password", map[string]any{"old_password": apptest.StaffPassword, "new_password": "Brand-New-Pass-7"})
		two.Must(401, "GET", "/api/v1/me", nil)
		one.Must(200, "GET", "/api/v1/me", nil)
		stale := s.Client("stale")
		stale.SetCookie("linli_session", oneBefore)
		stale.Must(401, "GET", "/api/v1/me", nil)
		s.Client("old pw").Must(401, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})

		// An operator's reset forces a change again and ends the sessions.
		var accounts struct {
			Items []struct {
				ID      int    `json:"id"`
				Account string `json:"account"`
			} `json:"items"`
		}
		op.Must(200, "GET", fmt.Sprintf("/api/v1/accounts?community_id=%d", a.ID), nil).JSON(t, &accounts)
		id := 0
		for _, it := range accounts.Items {
			if it.Account == a.ManagerAccount {
				id = it.ID
			}
		}
		op.Must(204, "POST", fmt.Sprintf("/api/v1/accounts/%d/password-reset", id), nil)
		one.Must(401, "GET", "/api/v1/me", nil)
		again := s.Client("again")
		var me struct {
			MustChange bool `json:"must_change_password"`
		}
		again.Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": "123456"}).JSON(t, &me)
		if !me.MustChange {
			t.Fatal("after a reset the account must change its password")
		}
		again.Must(403, "GET", a.Path("/tree"), nil)
	})
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	a := s.NewCommunity(t, op, "密码小区", "P")
	c := a.NewManager
	for _, tt := range []struct{ pw, want string }{
		{"1234567", "至少需要 8"},
		{"123456", "至少需要 8"},
		{"iloveyou", "常见"},
		{"qwertyuiop", "常见"},
		{"newp", "至少需要 8"},
		{"newpxxxxxxx", ""},
	} {
		r := c.Do("PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": tt.pw})
		if tt.want == "" {
			if r.Status != 200 {
				t.Errorf("new password %q refused: %s", tt.pw, r.Body)
			}
			continue
		}
		if r.Status != 422 || !strings.Contains(r.Detail(), tt.want) {
			t.Errorf("new password %q: %d %s, want 422 mentioning %q", tt.pw, r.Status, r.Body, tt.want)
		}
	}
	// Not the account name.
	r := s.Client("x").Login("admin", apptest.AdminPassword, false)
	if r.Status != 200 {
		t.Fatal(r.Status)
	}
	op.Must(201, "POST", "/api/v1/accounts", map[string]any{"account": "wangjingli88", "name": "王经理", "phone": "13800000001", "community_ids": []int{a.ID}})
	w := s.Client("wang")
	w.Must(200, "POST", "/api/v1/session", map[string]any{"account": "wangjingli88", "password": "123456"})
	if r := w.Do("PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": "WangJingLi88"}); r.Status != 422 || !strings.Contains(r.Detail(), "账号") {
		t.Errorf("password equal to the account name: %d %s", r.Status, r.Body)
	}
	if r := w.Do("PUT", "/api/v1/me/password", map[string]any{"old_password": "wrong-old", "new_password": "Fine-Password-1"}); r.Status != 422 || !strings.Contains(r.Detail(), "原密码") {
		t.Errorf("wrong old password: %d %s", r.Status, r.Body)
	}
}

// TestPasswordPolicyPersonal: a staff member cannot choose their own phone
// number, the product's name with digits, a love-number string or their
// community's name with digits, on either database.
func TestPasswordPolicyPersonal(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := apptest.Start(t, b)
			a := s.NewCommunity(t, s.Operator(), "翠湖小区", "Q")
			c := a.NewManager // phone 13900000000
			for _, tt := range []struct{ pw, want string }{
				{"13900000000", "手机号"},
				{"x13900000000", "手机号"},
				{"Linli123456", "邻里"},
				{"5201314520", "520"},
				{"翠湖小区2026", "小区"},
				{"1qaz2wsx3edc", "键盘"},
				{"zhangwei19900512", "拼音"},
			} {
				r := c.Do("PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": tt.pw})
				if r.Status != 422 || !strings.Contains(r.Detail(), tt.want) {
					t.Errorf("new password %q: %d %s, want 422 mentioning %q", tt.pw, r.Status, r.Body, tt.want)
				}
			}
			c.Must(200, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": "Cuihu-Lamp-Harbor"})
		})
	}
}

func TestPerIPThrottle(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	c := s.Client("spray")
	// Password spraying: one try each at many account names from one address.
	var last apptest.Response
	for i := range 51 {
		last = c.Login(fmt.Sprintf("user%03d", i), "123456", false)
	}
	if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Detail(), "频繁") {
		t.Fatalf("after 50 failures from one address: %d %s, want 429", last.Status, last.Body)
	}
}

// storetestEach starts a server per backend.
func storetestEach(t *testing.T, fn func(t *testing.T, s *apptest.Server)) {
	t.Helper()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, apptest.Start(t, b)) })
	}
}

func TestCrossOriginWritesRefused(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		r := op.DoHeaders("POST", "/api/v1/communities", h, map[string]any{"name": "跨站小区", "region_code": "440306", "address": "x"})
		if r.Status != http.StatusForbidden || !strings.Contains(r.Detail(), "跨站请求被拒绝") {
			t.Errorf("cross-origin write with %v: %d %s", h, r.Status, r.Body)
		}
	}
	var list struct{ Total int }
	op.Must(200, "GET", "/api/v1/communities", nil).JSON(t, &list)
	if list.Total != 0 {
		t.Fatal("a refused cross-origin write created a community")
	}
	// The same request from the console's own origin goes through.
	op.Must(201, "POST", "/api/v1/communities", map[string]any{"name": "本站小区", "region_code": "440306", "address": "x"})
}
