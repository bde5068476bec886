package app_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/mail/mailtest"
	"linli/internal/recovery"
	"linli/internal/storetest"
)

// startWithMail starts Linli on backend b sending mail to a real SMTP
// server started here.
func startWithMail(t *testing.T, b storetest.Backend) (*apptest.Server, *mailtest.Server) {
	t.Helper()
	smtp := mailtest.Start(t, false)
	s := apptest.StartWith(t, config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin", AdminPassword: apptest.AdminInitial,
		MQTTAddr: "off", SIPAddr: "off", SMTPURL: smtp.URL("", ""), SMTPFrom: "物业平台 <noreply@wuye.example>"})
	return s, smtp
}

// smsCode waits for the n-th code the log SMS sender wrote for phone.
func smsCode(t *testing.T, s *apptest.Server, phone string, n int) string {
	t.Helper()
	re := regexp.MustCompile(`phone=` + regexp.QuoteMeta(phone[:3]+"****"+phone[7:]) + ` code=(\d{6})`)
	var code string
	if !apptest.Within(60*time.Second, func() bool {
		m := re.FindAllStringSubmatch(s.Logs(), -1)
		if len(m) >= n {
			code = m[n-1][1]
		}
		return code != ""
	}) {
		t.Fatalf("SMS code %d to %s was not sent", n, phone)
	}
	return code
}

var linkRE = regexp.MustCompile(`https?://[^\s"<]+/reset-password\?token=[0-9a-f]+`)

func TestForgotPasswordByEmail(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s, smtp := startWithMail(t, b)
			op := s.Operator()
			a := s.NewCommunity(t, op, "找回小区", "F")
			op.Must(201, "POST", "/api/v1/accounts", map[string]any{"account": "wangjl", "name": "王经理", "phone": "13811112222",
				"email": "wang@example.com", "community_ids": []int{a.ID}})
			c1 := s.Client("desk")
			c1.Must(200, "POST", "/api/v1/session", map[string]any{"account": "wangjl", "password": "123456"})
			c1.Must(200, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": "Desk-Pass-2024x"})
			c2 := s.Client("laptop")
			c2.Must(200, "POST", "/api/v1/session", map[string]any{"account": "wangjl", "password": "Desk-Pass-2024x", "remember": true})

			// The same answer whether the account exists, has no e-mail
			// (the fixture's manager) or has one.
			anon := s.Client("forgot")
			var answers []string
			for _, name := range []string{"no-such-account", a.ManagerAccount, " WangJL "} {
				// Anyone may name any host; the mailed link names this server
				// all the same (checked below).
				r := anon.DoHeaders("POST", "/api/v1/password-resets", map[string]string{"Host": "evil.example.com", "X-Forwarded-Proto": "https"},
					map[string]any{"account": name, "method": "email"})
				if r.Status != 202 {
					t.Fatalf("reset request for %q: %d %s", name, r.Status, r.Body)
				}
				answers = append(answers, string(r.Body))
			}
			if answers[0] != answers[1] || answers[1] != answers[2] || !strings.Contains(answers[0], recovery.MsgSentEmail) {
				t.Fatalf("answers differ: %q", answers)
			}
			// A second request within the minute is refused, for a real
			// account and an unknown one alike.
			r1 := anon.Do("POST", "/api/v1/password-resets", map[string]any{"account": "wangjl", "method": "email"})
			r2 := anon.Do("POST", "/api/v1/password-resets", map[string]any{"account": "no-such-account", "method": "email"})
			if r1.Status != 429 || r2.Status != 429 || !strings.Contains(r1.Detail(), "秒后再试") || !strings.Contains(r2.Detail(), "秒后再试") {
				t.Fatalf("second request within a minute: %d %s / %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
			}

			m := smtp.Wait(t, 1)
			if m.To != "wang@example.com" || m.From != "noreply@wuye.example" {
				t.Fatalf("envelope %s → %s", m.From, m.To)
			}
			if !strings.Contains(m.Subject, "找回密码") || !strings.Contains(m.Text, "30 分钟") || !strings.Contains(m.HTML, "设置新密码") {
				t.Errorf("message: subject %q text %q html %q", m.Subject, m.Text, m.HTML)
			}
			link := linkRE.FindString(m.Text)
			if link == "" || !strings.HasPrefix(link, s.URL+"/reset-password?token=") || !strings.Contains(m.HTML, link) {
				t.Fatalf("link %q in text %q (server %s)", link, m.Text, s.URL)
			}
			u, _ := url.Parse(link)
			token := u.Query().Get("token")

			// The page the link opens is the console.
			if r := s.Client("browser").Do("GET", u.RequestURI(), nil); r.Status != 200 || !strings.Contains(string(r.Body), "<div id=\"app\"") {
				t.Errorf("GET %s: %d", u.RequestURI(), r.Status)
			}
			// The policy of a changed password applies; a refused password
			// does not spend the link.
			r := anon.Do("POST", "/api/v1/password-resets/by-link", map[string]any{"token": token, "new_password": "12345678"})
			if r.Status != 422 || !strings.Contains(string(r.Body), "new_password") {
				t.Fatalf("weak password: %d %s", r.Status, r.Body)
			}
			anon.Must(204, "POST", "/api/v1/password-resets/by-link", map[string]any{"token": token, "new_password": "Found-Again-77x"})
			// Once only.
			if r := anon.Do("POST", "/api/v1/password-resets/by-link", map[string]any{"token": token, "new_password": "Found-Again-88y"}); r.Status != 422 || !strings.Contains(r.Detail(), "链接无效或已过期") {
				t.Fatalf("link used twice: %d %s", r.Status, r.Body)
			}
			// Every session of the account has ended, 自动登录 included.
			c1.Must(401, "GET", "/api/v1/me", nil)
			c2.Must(401, "GET", "/api/v1/me", nil)
			if r := s.Client("old").Login("wangjl", "Desk-Pass-2024x", false); r.Status != 401 {
				t.Fatalf("old password after reset: %d", r.Status)
			}
			var me struct {
				MustChangePassword bool `json:"must_change_password"`
			}
			s.Client("new").Must(200, "POST", "/api/v1/session", map[string]any{"account": "wangjl", "password": "Found-Again-77x"}).JSON(t, &me)
			if me.MustChangePassword {
				t.Error("a reset password must not be changed again at once")
			}
			if !strings.Contains(s.Logs(), `msg=audit action=password_reset account=wangjl`) {
				t.Error("the reset is not in the log as an audit entry")
			}
			if n := len(smtp.Messages()); n != 1 {
				t.Errorf("%d messages sent, want 1 (only the account with an e-mail)", n)
			}
			// An unknown token answers as a used one.
			if r := anon.Do("POST", "/api/v1/password-resets/by-link", map[string]any{"token": strings.Repeat("ab", 32), "new_password": "Found-Again-88y"}); r.Status != 422 || !strings.Contains(r.Detail(), "链接无效或已过期") {
				t.Fatalf("unknown link: %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestForgotPasswordBySMS(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "短信找回小区", "M")
		for _, acc := range []struct{ name, phone string }{{"lisi", "13722223333"}, {"zhaowu", "13744445555"}} {
			op.Must(201, "POST", "/api/v1/accounts", map[string]any{"account": acc.name, "name": "客服", "phone": acc.phone, "community_ids": []int{a.ID}})
		}
		staff := s.Client("staff")
		staff.Must(200, "POST", "/api/v1/session", map[string]any{"account": "lisi", "password": "123456"})
		// Someone has locked the account with wrong passwords; the reset
		// lifts the lock.
		for i := range 10 {
			s.Client("guess").Login("lisi", fmt.Sprintf("wrong-%d", i), false)
		}
		if r := s.Client("owner").Login("lisi", "123456", false); r.Status != 429 {
			t.Fatalf("the account is not locked: %d %s", r.Status, r.Body)
		}
		anon := s.Client("forgot")
		r := anon.Must(202, "POST", "/api/v1/password-resets", map[string]any{"account": "lisi", "method": "sms"})
		if !strings.Contains(string(r.Body), "如果账号存在，验证码已发送") {
			t.Fatalf("answer %s", r.Body)
		}
		code := smsCode(t, s, "13722223333", 1)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		reset := func(account, code, pw string) apptest.Response {
			return anon.Do("POST", "/api/v1/password-resets/by-code", map[string]any{"account": account, "code": code, "new_password": pw})
		}
		// A right code with a weak password is no wrong guess: four wrong
		// codes after it still leave the fifth try.
		if r := reset("lisi", code, "lisi12345"); r.Status != 422 || !strings.Contains(string(r.Body), "new_password") {
			t.Fatalf("weak password: %d %s", r.Status, r.Body)
		}
		for i := range 4 {
			if r := reset("lisi", wrong, "Sms-Reset-2024x"); r.Status != 422 || r.Detail() != "验证码错误或已过期，请重新获取" {
				t.Fatalf("wrong code %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		if r := reset("lisi", code, "Sms-Reset-2024x"); r.Status != 204 {
			t.Fatalf("right code on the fifth try: %d %s", r.Status, r.Body)
		}
		staff.Must(401, "GET", "/api/v1/me", nil)
		s.Client("new").Must(200, "POST", "/api/v1/session", map[string]any{"account": "lisi", "password": "Sms-Reset-2024x"})
		// Single use.
		if r := reset("lisi", code, "Sms-Reset-2025y"); r.Status != 422 {
			t.Fatalf("code used twice: %d %s", r.Status, r.Body)
		}

		// Five wrong tries spend a code: the right one fails after them.
		anon.Must(202, "POST", "/api/v1/password-resets", map[string]any{"account": "zhaowu", "method": "sms"})
		code = smsCode(t, s, "13744445555", 1)
		wrong = "000000"
		if code == wrong {
			wrong = "111111"
		}
		for range 5 {
			reset("zhaowu", wrong, "Sms-Reset-2024x")
		}
		if r := reset("zhaowu", code, "Sms-Reset-2024x"); r.Status != 422 || r.Detail() != "验证码错误或已过期，请重新获取" {
			t.Fatalf("right code after five wrong ones: %d %s", r.Status, r.Body)
		}
		// An unknown account answers as a wrong code.
		if r := reset("nobody-here", "123456", "Sms-Reset-2024x"); r.Status != 422 || r.Detail() != "验证码错误或已过期，请重新获取" {
			t.Fatalf("unknown account: %d %s", r.Status, r.Body)
		}
		// An SMS request for an account without a phone answers the same.
		r2 := anon.Must(202, "POST", "/api/v1/password-resets", map[string]any{"account": "no-phone-here", "method": "sms"})
		if string(r2.Body) != string(r.Body) {
			t.Errorf("answers differ: %s / %s", r.Body, r2.Body)
		}
	})
}

func TestResetRequestsPerAddress(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	c := s.Client("flood")
	for i := range recovery.CodesPerHourIP {
		c.Must(202, "POST", "/api/v1/password-resets", map[string]any{"account": "flood" + strings.Repeat("x", i%3) + string(rune('a'+i)), "method": "sms"})
	}
	r := c.Do("POST", "/api/v1/password-resets", map[string]any{"account": "one-more", "method": "email"})
	if r.Status != 429 || !strings.Contains(r.Detail(), "一小时后再试") {
		t.Fatalf("request %d from one address: %d %s", recovery.CodesPerHourIP+1, r.Status, r.Body)
	}
}

func TestChangeContactVerified(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s, smtp := startWithMail(t, b)
			op := s.Operator()
			a := s.NewCommunity(t, op, "替换小区", "R")
			m := a.Manager

			// Invalid numbers and addresses are refused with a message.
			for _, tc := range []struct {
				path string
				body map[string]any
				want string
			}{
				{"/api/v1/me/contact-codes", map[string]any{"kind": "phone", "value": "12345"}, "手机号格式不正确"},
				{"/api/v1/me/contact-codes", map[string]any{"kind": "email", "value": "not-an-address"}, "邮箱地址格式不正确"},
				{"/api/v1/me/contact-codes", map[string]any{"kind": "phone", "value": "13800000000"}, "与当前绑定的相同"},
				{"/api/v1/accounts", map[string]any{"account": "badphone", "name": "某", "phone": "12345", "community_ids": []int{a.ID}}, "电话格式不正确"},
				{"/api/v1/accounts", map[string]any{"account": "bademail", "name": "某", "phone": "13812345678", "email": "a@b", "community_ids": []int{a.ID}}, "邮箱格式不正确"},
			} {
				c := m
				if strings.HasPrefix(tc.path, "/api/v1/accounts") {
					c = op
				}
				if r := c.Do("POST", tc.path, tc.body); r.Status != 422 || !strings.Contains(r.Detail(), tc.want) {
					t.Errorf("POST %s %v: %d %s, want 422 %q", tc.path, tc.body, r.Status, r.Body, tc.want)
				}
			}
			// The profile no longer changes them unchecked.
			if r := m.Do("PATCH", "/api/v1/me", map[string]any{"phone": "12345"}); r.Status != 422 || !strings.Contains(r.Detail(), "替换手机") {
				t.Errorf("PATCH phone: %d %s", r.Status, r.Body)
			}

			// 替换手机: the code goes to the new phone.
			m.Must(202, "POST", "/api/v1/me/contact-codes", map[string]any{"kind": "phone", "value": "137 0000 1111"})
			code := smsCode(t, s, "13700001111", 1)
			change := func(c *apptest.Client, path string, body map[string]any) apptest.Response {
				return c.Do("PUT", path, body)
			}
			if r := change(m, "/api/v1/me/phone", map[string]any{"phone": "13700001111", "code": code, "password": "wrong-password"}); r.Status != 422 || !strings.Contains(r.Detail(), "当前密码不正确") {
				t.Fatalf("wrong password: %d %s", r.Status, r.Body)
			}
			if r := change(m, "/api/v1/me/phone", map[string]any{"phone": "13700002222", "code": code, "password": apptest.StaffPassword}); r.Status != 422 || !strings.Contains(r.Detail(), "验证码错误") {
				t.Fatalf("code for another phone: %d %s", r.Status, r.Body)
			}
			var me struct{ Phone, Email string }
			change(m, "/api/v1/me/phone", map[string]any{"phone": "13700001111", "code": code, "password": apptest.StaffPassword}).JSON(t, &me)
			if me.Phone != "13700001111" {
				t.Fatalf("phone after change: %+v", me)
			}
			if r := m.Do("PUT", "/api/v1/me/phone", map[string]any{"phone": "13700001111", "code": code, "password": apptest.StaffPassword}); r.Status != 422 {
				t.Fatalf("code used twice: %d %s", r.Status, r.Body)
			}
			// Wrong current passwords count as failed logins: a borrowed
			// session cannot guess the password.
			for i := range 10 {
				if r := m.Do("PUT", "/api/v1/me/phone", map[string]any{"phone": "13700003333", "code": "123456", "password": fmt.Sprintf("guess-%d", i)}); r.Status != 422 {
					t.Fatalf("guess %d: %d %s", i+1, r.Status, r.Body)
				}
			}
			if r := m.Do("PUT", "/api/v1/me/phone", map[string]any{"phone": "13700003333", "code": "123456", "password": apptest.StaffPassword}); r.Status != 429 || !strings.Contains(r.Detail(), "锁定") {
				t.Fatalf("after ten wrong passwords: %d %s", r.Status, r.Body)
			}
			if r := s.Client("again").Login(a.ManagerAccount, apptest.StaffPassword, false); r.Status != 429 {
				t.Fatalf("login after ten wrong current passwords: %d %s", r.Status, r.Body)
			}

			// 替换邮箱 (another account: one code a minute per account): the
			// code arrives by e-mail.
			n := a.NewManager
			n.Must(200, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": "Second-Staff-9x"})
			n.Must(202, "POST", "/api/v1/me/contact-codes", map[string]any{"kind": "email", "value": "zhang@example.com"})
			msg := smtp.Wait(t, 1)
			emailCode := regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Text)
			if msg.To != "zhang@example.com" || emailCode == "" || !strings.Contains(msg.HTML, emailCode) {
				t.Fatalf("code mail to %s: %q", msg.To, msg.Text)
			}
			change(n, "/api/v1/me/email", map[string]any{"email": "zhang@example.com", "code": emailCode, "password": "Second-Staff-9x"}).JSON(t, &me)
			if me.Email != "zhang@example.com" {
				t.Fatalf("email after change: %+v", me)
			}
			if !strings.Contains(s.Logs(), "msg=audit action=contact_changed kind=email") {
				t.Error("the change is not in the log")
			}
		})
	}
}
