package recovery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/errs"
	"linli/internal/mail"
	"linli/internal/password"
	"linli/internal/secret"
	"linli/internal/store"
	"linli/internal/storetest"
)

// outbox keeps what was sent, for the tests of limits and expiry that move
// a clock (delivery over real SMTP is tested in internal/app).
type outbox struct {
	mu    sync.Mutex
	codes []string
	mails []mail.Message
}

func (o *outbox) Send(_ context.Context, _, code string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes = append(o.codes, code)
	return nil
}

type mailbox struct{ o *outbox }

func (m mailbox) Send(_ context.Context, msg mail.Message) error {
	m.o.mu.Lock()
	defer m.o.mu.Unlock()
	m.o.mails = append(m.o.mails, msg)
	return nil
}

type fixture struct {
	s   *Service
	now time.Time
	out *outbox
}

func newFixture(t *testing.T, db *store.Store) *fixture {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fixture{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), out: &outbox{}}
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.s = NewService(db, auth.NewService(db, box, nil, logger), f.out, mailbox{f.out}, "", logger)
	f.s.now = func() time.Time { return f.now }
	hash, _ := password.Hash("Old-Pass-2026x")
	db.Account.Create().SetAccount("liu").SetName("刘").SetPhone("13712345678").SetEmail("liu@example.com").
		SetRole("operator").SetPasswordHash(hash).ExecX(actor.AsSystem(context.Background()))
	return f
}

// sent waits for the deliveries under way and returns what went out.
func (f *fixture) sent() *outbox {
	f.s.Close()
	return f.out
}

func TestRequestLimitsPerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		f := newFixture(t, db)
		for i := range CodesPerDay {
			if _, err := f.s.RequestReset(ctx, "liu", BySMS, "10.0.0.1", "http://x"); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
			f.now = f.now.Add(30 * time.Second)
			if i < CodesPerDay-1 {
				_, err := f.s.RequestReset(ctx, "liu", ByEmail, "10.0.0.2", "http://x")
				if !errors.Is(err, errs.ErrTooMany) || !strings.Contains(err.Error(), "秒后再试") {
					t.Fatalf("30 s after request %d: %v", i+1, err)
				}
			}
			f.now = f.now.Add(31 * time.Second)
		}
		_, err := f.s.RequestReset(ctx, "liu", BySMS, "10.0.0.3", "http://x")
		if !errors.Is(err, errs.ErrTooMany) || !strings.Contains(err.Error(), "今天") {
			t.Fatalf("request %d in a day: %v", CodesPerDay+1, err)
		}
		// An unknown account is counted the same way.
		for range CodesPerDay {
			if _, err := f.s.RequestReset(ctx, "ghost", BySMS, "10.0.0.4", "http://x"); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(61 * time.Second)
		}
		if _, err2 := f.s.RequestReset(ctx, "ghost", BySMS, "10.0.0.5", "http://x"); err2 == nil || err2.Error() != err.Error() {
			t.Fatalf("unknown account after %d requests: %v, want %v", CodesPerDay, err2, err)
		}
		f.now = f.now.Add(24 * time.Hour)
		if _, err := f.s.RequestReset(ctx, "liu", BySMS, "10.0.0.1", "http://x"); err != nil {
			t.Fatalf("the next day: %v", err)
		}
		if n := len(f.sent().codes); n != CodesPerDay+1 {
			t.Fatalf("%d codes sent, want %d", n, CodesPerDay+1)
		}
	})
}

func TestCodesAndLinksExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.s.RequestReset(ctx, "liu", BySMS, "10.0.0.1", "http://x"); err != nil {
			t.Fatal(err)
		}
		code := f.sent().codes[0]
		f.now = f.now.Add(CodeTTL + time.Second)
		if err := f.s.ResetWithCode(ctx, "liu", code, "New-Pass-2026y", "10.0.0.1"); err == nil || !strings.Contains(err.Error(), msgWrongCode) {
			t.Fatalf("code after %v: %v", CodeTTL, err)
		}

		if _, err := f.s.RequestReset(ctx, "liu", ByEmail, "10.0.0.1", "https://wuye.example.com/"); err != nil {
			t.Fatal(err)
		}
		m := f.sent().mails[0]
		token := regexp.MustCompile(`https://wuye\.example\.com/reset-password\?token=([0-9a-f]+)`).FindStringSubmatch(m.Text)
		if token == nil || m.To != "liu@example.com" {
			t.Fatalf("mail to %s: %q", m.To, m.Text)
		}
		f.now = f.now.Add(LinkTTL + time.Second)
		if err := f.s.ResetWithLink(ctx, token[1], "New-Pass-2026y", "10.0.0.1"); err == nil || !strings.Contains(err.Error(), msgBadLink) {
			t.Fatalf("link after %v: %v", LinkTTL, err)
		}

		// A link within its time works, and spends the SMS code sent after it.
		if _, err := f.s.RequestReset(ctx, "liu", ByEmail, "10.0.0.1", "https://wuye.example.com"); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(CodeGap)
		if _, err := f.s.RequestReset(ctx, "liu", BySMS, "10.0.0.1", "https://wuye.example.com"); err != nil {
			t.Fatal(err)
		}
		out := f.sent()
		token = regexp.MustCompile(`token=([0-9a-f]+)`).FindStringSubmatch(out.mails[1].Text)
		f.now = f.now.Add(LinkTTL - 2*time.Minute)
		if err := f.s.ResetWithLink(ctx, token[1], "New-Pass-2026y", "10.0.0.1"); err != nil {
			t.Fatalf("link within %v: %v", LinkTTL, err)
		}
		if err := f.s.ResetWithCode(ctx, "liu", out.codes[1], "New-Pass-2026z", "10.0.0.1"); err == nil {
			t.Fatal("the SMS code still works after the link reset the password")
		}
	})
}

func TestCodesPerTarget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.Store) {
		ctx := context.Background()
		f := newFixture(t, db)
		sys := actor.AsSystem(ctx)
		var ps []*auth.Principal
		for _, name := range []string{"a1", "a2", "a3"} {
			acc := db.Account.Create().SetAccount(name).SetPhone("13700000000").SetRole("operator").SetPasswordHash("x").SaveX(sys)
			ps = append(ps, &auth.Principal{Account: acc})
		}
		// Two accounts send the day's codes to one new address within the hour.
		for i := range CodesPerHourTo {
			if _, err := f.s.SendContactCode(ctx, ps[i%2], KindEmail, "target@example.com", "10.0.0."+string(rune('1'+i%2))); err != nil {
				t.Fatalf("code %d: %v", i+1, err)
			}
			if i%2 == 1 {
				f.now = f.now.Add(61 * time.Second)
			}
		}
		_, err := f.s.SendContactCode(ctx, ps[2], KindEmail, "target@example.com", "10.0.0.9")
		if !errors.Is(err, errs.ErrTooMany) || !strings.Contains(err.Error(), "该号码或邮箱") {
			t.Fatalf("code %d to one address within the hour: %v", CodesPerHourTo+1, err)
		}
		if _, err := f.s.SendContactCode(ctx, ps[2], KindEmail, "other@example.com", "10.0.0.9"); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
}
