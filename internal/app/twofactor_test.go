package app_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

type verifyAnswer struct {
	Verify *struct {
		Challenge string   `json:"challenge"`
		Methods   []string `json:"methods"`
		Phone     string   `json:"phone"`
		Email     string   `json:"email"`
	} `json:"verify"`
	Account string `json:"account"`
}

// signInNeedsCode signs c in as account and expects to be asked for a
// second factor; it returns the challenge.
func signInNeedsCode(t *testing.T, c *apptest.Client, account, pw string, methods ...string) string {
	t.Helper()
	var v verifyAnswer
	c.Must(202, "POST", "/api/v1/session", map[string]any{"account": account, "password": pw}).JSON(t, &v)
	if v.Verify == nil || v.Verify.Challenge == "" || strings.Join(v.Verify.Methods, ",") != strings.Join(methods, ",") {
		t.Fatalf("sign-in of %s on a new browser: %+v, want methods %v", account, v.Verify, methods)
	}
	// Not signed in yet.
	c.Must(401, "GET", "/api/v1/me", nil)
	return v.Verify.Challenge
}

func verify(c *apptest.Client, account, challenge, method, code string, trust bool) apptest.Response {
	return c.Do("POST", "/api/v1/session/verify", map[string]any{"account": account, "challenge": challenge,
		"method": method, "code": code, "trust_device": trust})
}

func TestTwoFactorSignIn(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s, smtp := startWithMail(t, b)
			op := s.Operator()
			a := s.NewCommunity(t, op, "验证小区", "V")
			var acc struct{ ID int }
			op.Must(201, "POST", "/api/v1/accounts", map[string]any{"account": "zhaoyun", "name": "赵云", "phone": "13822223333",
				"email": "zhao@example.com", "community_ids": []int{a.ID}}).JSON(t, &acc)
			const pw = "Zhao-Yun-2024x"
			desk := s.Client("desk")
			desk.Must(200, "POST", "/api/v1/session", map[string]any{"account": "zhaoyun", "password": "123456"})
			desk.Must(200, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": pw})

			// Nothing is asked before the account turns anything on.
			s.Client("before").Must(200, "POST", "/api/v1/session", map[string]any{"account": "zhaoyun", "password": pw})

			// Enrol an authenticator: a wrong code is refused, a right one
			// gives ten recovery codes.
			var enrol struct {
				Secret string `json:"secret"`
				URI    string `json:"uri"`
				QRCode string `json:"qr_code"`
			}
			desk.Must(200, "POST", "/api/v1/me/totp", nil).JSON(t, &enrol)
			if !strings.HasPrefix(enrol.URI, "otpauth://totp/") || !strings.Contains(enrol.URI, "secret="+enrol.Secret) ||
				!strings.HasPrefix(enrol.QRCode, "data:image/png;base64,") {
				t.Fatalf("enrolment %+v", enrol)
			}
			if r := desk.Do("PUT", "/api/v1/me/totp", map[string]any{"code": "000000"}); r.Status != 422 || !strings.Contains(r.Detail(), "验证码不正确") {
				t.Fatalf("wrong enrolment code: %d %s", r.Status, r.Body)
			}
			now, _ := totp.GenerateCode(enrol.Secret, time.Now())
			var codes struct {
				Codes []string `json:"recovery_codes"`
			}
			desk.Must(200, "PUT", "/api/v1/me/totp", map[string]any{"code": now}).JSON(t, &codes)
			if len(codes.Codes) != 10 || !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$`).MatchString(codes.Codes[0]) {
				t.Fatalf("recovery codes %q", codes.Codes)
			}
			var st struct {
				TOTP       bool `json:"totp"`
				LoginCheck bool `json:"login_check"`
				Required   bool `json:"required"`
				Left       int  `json:"backup_codes_left"`
				Trusted    int  `json:"trusted_devices"`
			}
			desk.Must(200, "GET", "/api/v1/me/two-factor", nil).JSON(t, &st)
			if !st.TOTP || !st.LoginCheck || st.Required || st.Left != 10 {
				t.Fatalf("status after enrolment %+v", st)
			}
			// The secret is sealed at rest.
			var raw []byte
			if err := s.App.Store().DB.QueryRow(fmt.Sprintf("SELECT totp_secret FROM accounts WHERE id = %d", acc.ID)).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if len(raw) == 0 || strings.Contains(string(raw), enrol.Secret) {
				t.Errorf("the authenticator secret is not sealed: %q", raw)
			}
			// The browser that enrolled stays signed in.
			desk.Must(200, "GET", "/api/v1/me", nil)

			// A new browser is asked for a code after the right password.
			laptop := s.Client("laptop")
			ch := signInNeedsCode(t, laptop, "zhaoyun", pw, "totp", "recovery", "sms", "email")
			// The code used at enrolment is not accepted twice.
			if r := verify(laptop, "zhaoyun", ch, "totp", now, false); r.Status != 422 || !strings.Contains(r.Detail(), "验证码错误") {
				t.Fatalf("replayed code: %d %s", r.Status, r.Body)
			}
			// A challenge belongs to its account.
			if r := verify(laptop, a.ManagerAccount, ch, "totp", now, false); r.Status != 401 {
				t.Fatalf("challenge with another account name: %d %s", r.Status, r.Body)
			}
			next, _ := totp.GenerateCode(enrol.Secret, time.Now().Add(30*time.Second))
			var me struct {
				Account string `json:"account"`
			}
			verify(laptop, "zhaoyun", ch, "totp", next, true).JSON(t, &me)
			if me.Account != "zhaoyun" {
				t.Fatalf("verified sign-in answered %+v", me)
			}
			laptop.Must(200, "GET", "/api/v1/me", nil)
			// The challenge is spent.
			if r := verify(s.Client("thief"), "zhaoyun", ch, "totp", next, false); r.Status != 401 {
				t.Fatalf("spent challenge: %d %s", r.Status, r.Body)
			}
			// The remembered browser signs in without a code next time.
			laptop.Must(204, "DELETE", "/api/v1/session", nil)
			laptop.Must(200, "POST", "/api/v1/session", map[string]any{"account": "zhaoyun", "password": pw})

			// A recovery code works once.
			phone := s.Client("phone")
			ch = signInNeedsCode(t, phone, "zhaoyun", pw, "totp", "recovery", "sms", "email")
			verify(phone, "zhaoyun", ch, "recovery", strings.ToLower(codes.Codes[3]), false).JSON(t, &me)
			other := s.Client("other")
			ch = signInNeedsCode(t, other, "zhaoyun", pw, "totp", "recovery", "sms", "email")
			if r := verify(other, "zhaoyun", ch, "recovery", codes.Codes[3], false); r.Status != 422 {
				t.Fatalf("recovery code used twice: %d %s", r.Status, r.Body)
			}
			// …and a code by SMS, which goes to the bound phone.
			r := other.Must(202, "POST", "/api/v1/session/code", map[string]any{"account": "zhaoyun", "challenge": ch, "method": "sms"})
			if !strings.Contains(r.Detail()+string(r.Body), "138****3333") {
				t.Errorf("SMS answer %s", r.Body)
			}
			verify(other, "zhaoyun", ch, "sms", smsCode(t, s, "13822223333", 1), false).JSON(t, &me)
			other.Must(200, "GET", "/api/v1/me", nil)

			// 新设备登录验证 by e-mail for an account without an authenticator.
			op.Must(201, "POST", "/api/v1/accounts", map[string]any{"account": "sunli", "name": "孙丽", "phone": "13955556666", "email": "sun@example.com",
				"community_ids": []int{a.ID}})
			const pw2 = "Sun-Li-2024xy"
			sun := s.Client("sun")
			sun.Must(200, "POST", "/api/v1/session", map[string]any{"account": "sunli", "password": "123456"})
			sun.Must(200, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": pw2})
			if r := sun.Do("PUT", "/api/v1/me/login-check", map[string]any{"enabled": true, "password": "wrong"}); r.Status != 422 {
				t.Fatalf("login check with a wrong password: %d %s", r.Status, r.Body)
			}
			sun.Must(200, "PUT", "/api/v1/me/login-check", map[string]any{"enabled": true, "password": pw2})
			sunNew := s.Client("sun new")
			ch = signInNeedsCode(t, sunNew, "sunli", pw2, "sms", "email")
			sunNew.Must(202, "POST", "/api/v1/session/code", map[string]any{"account": "sunli", "challenge": ch, "method": "email"})
			m := smtp.Wait(t, 1)
			code := regexp.MustCompile(`\b(\d{6})\b`).FindString(m.Text)
			if m.To != "sun@example.com" || !strings.Contains(m.Subject, "登录验证码") || code == "" || !strings.Contains(m.HTML, code) {
				t.Fatalf("login code mail to %s: %q %q", m.To, m.Subject, m.Text)
			}
			verify(sunNew, "sunli", ch, "email", code, false).JSON(t, &me)
			// Without an authenticator the account may turn it off again.
			sun.Must(200, "PUT", "/api/v1/me/login-check", map[string]any{"enabled": false, "password": pw2})
			s.Client("sun free").Must(200, "POST", "/api/v1/session", map[string]any{"account": "sunli", "password": pw2})

			// The operator can require it for a community; its managers may not.
			if r := a.Manager.Do("PATCH", a.Path(""), map[string]any{"require_two_factor": false}); r.Status != 403 {
				t.Fatalf("manager sets require_two_factor: %d %s", r.Status, r.Body)
			}
			op.Must(200, "PATCH", a.Path(""), map[string]any{"require_two_factor": true})
			signInNeedsCode(t, s.Client("sun required"), "sunli", pw2, "sms", "email")
			if r := sun.Do("PUT", "/api/v1/me/login-check", map[string]any{"enabled": false, "password": pw2}); r.Status != 409 {
				t.Fatalf("turning off what the community requires: %d %s", r.Status, r.Body)
			}
			// Every staff account of the community, with what it has bound.
			signInNeedsCode(t, s.Client("manager new"), a.ManagerAccount, apptest.StaffPassword, "sms")
			op.Must(200, "PATCH", a.Path(""), map[string]any{"require_two_factor": false})

			// The operator resets a lost authenticator; it is in 操作日志.
			op.Must(204, "DELETE", fmt.Sprintf("/api/v1/accounts/%d/two-factor", acc.ID), nil)
			s.Client("after reset").Must(200, "POST", "/api/v1/session", map[string]any{"account": "zhaoyun", "password": pw})
			desk.Must(200, "GET", "/api/v1/me/two-factor", nil).JSON(t, &st)
			if st.TOTP || st.LoginCheck || st.Left != 0 || st.Trusted != 0 {
				t.Fatalf("status after reset %+v", st)
			}
			var log struct {
				Items []struct {
					Kind    string `json:"kind"`
					Account string `json:"account"`
					Object  string `json:"object"`
				} `json:"items"`
			}
			op.Must(200, "GET", "/api/v1/audit-log?q=reset-account-two-factor", nil).JSON(t, &log)
			if len(log.Items) != 1 || log.Items[0].Account != "admin" || !strings.Contains(log.Items[0].Object, fmt.Sprint(acc.ID)) {
				t.Errorf("audit of the reset: %+v", log.Items)
			}
			op.Must(200, "GET", "/api/v1/audit-log?q=verify-login&category=signin", nil).JSON(t, &log)
			if len(log.Items) < 3 {
				t.Errorf("verified sign-ins in the audit log: %+v", log.Items)
			}

			// Wrong codes count towards the lockout: five per sign-in, and
			// the tenth failure locks the account.
			sun.Must(200, "PUT", "/api/v1/me/login-check", map[string]any{"enabled": true, "password": pw2})
			guess := s.Client("guess")
			ch = signInNeedsCode(t, guess, "sunli", pw2, "sms", "email")
			for i := range 5 {
				if r := verify(guess, "sunli", ch, "email", fmt.Sprintf("%06d", i), false); r.Status != 422 {
					t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Body)
				}
			}
			if r := verify(guess, "sunli", ch, "email", "000009", false); r.Status != 401 || !strings.Contains(r.Detail(), "重新输入账号密码") {
				t.Fatalf("sixth code on one sign-in: %d %s", r.Status, r.Body)
			}
			ch = signInNeedsCode(t, guess, "sunli", pw2, "sms", "email")
			for i := range 4 {
				verify(guess, "sunli", ch, "email", fmt.Sprintf("%06d", i), false)
			}
			if r := verify(guess, "sunli", ch, "email", "000008", false); r.Status != 429 || !strings.Contains(r.Detail(), "锁定") {
				t.Fatalf("tenth wrong code: %d %s", r.Status, r.Body)
			}
			if r := s.Client("locked").Do("POST", "/api/v1/session", map[string]any{"account": "sunli", "password": pw2}); r.Status != 429 {
				t.Fatalf("sign-in while locked: %d %s", r.Status, r.Body)
			}
		})
	}
}
