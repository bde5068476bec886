// Package audit keeps 操作日志: who changed what through the console API,
// who revealed personal data (身份证号, exports), and who signed in or
// failed to, with when, from which address and on which object. Entries are
// written in one place, a middleware beside the gate, and are append-only:
// the API lists and exports them, and only the retention janitor deletes.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"linli/internal/actor"
	"linli/internal/ent/auditentry"
	"linli/internal/store"
)

// Categories of entries.
const (
	Change       = "change"        // a non-GET console API operation
	Reveal       = "reveal"        // a read that shows personal data: 身份证号, exports
	SignIn       = "signin"        // a successful sign-in
	SignInFailed = "signin_failed" // a refused sign-in
)

// CategoryNames are the categories as the console shows them.
var CategoryNames = map[string]string{
	Change: "变更", Reveal: "查看/导出", SignIn: "登录", SignInFailed: "登录失败",
}

// Service writes, lists and purges audit entries.
type Service struct {
	db     *store.Store
	logger *slog.Logger
	now    func() time.Time
}

// NewService returns a Service on db.
func NewService(db *store.Store, logger *slog.Logger) *Service {
	return &Service{db: db, logger: logger, now: time.Now}
}

// Entry is one audit entry to write.
type Entry struct {
	AccountID   int // 0: nobody signed in (a failed sign-in)
	Account     string
	ActorName   string
	CommunityID int // 0: no community
	Category    string
	Kind        string
	Summary     string
	Method      string
	Path        string
	Object      string
	IP          string
	Status      int
	Detail      string
}

// Record appends e to the log as the server itself (the writer is never
// limited by the tenancy of the actor it records).
func (s *Service) Record(ctx context.Context, e Entry) error {
	c := s.db.AuditEntry.Create().SetCreatedAt(s.now()).
		SetAccount(clip(e.Account, 64)).SetActorName(clip(e.ActorName, 64)).
		SetCategory(e.Category).SetKind(clip(e.Kind, 64)).SetSummary(clip(e.Summary, 128)).
		SetMethod(clip(e.Method, 8)).SetPath(clip(e.Path, 256)).SetObject(clip(e.Object, 256)).
		SetIP(clip(e.IP, 64)).SetStatus(e.Status).SetDetail(clip(e.Detail, 256))
	if e.AccountID != 0 {
		c.SetAccountID(e.AccountID)
	}
	if e.CommunityID != 0 {
		c.SetCommunityID(e.CommunityID)
	}
	if err := c.Exec(actor.AsSystem(ctx)); err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Kind, err)
	}
	return nil
}

// Purge deletes the entries written before now-keep, a batch at a time, and
// says how many it deleted. The background janitor calls it.
func (s *Service) Purge(ctx context.Context, keep time.Duration) (int, error) {
	sys := actor.AsSystem(ctx)
	cut := s.now().Add(-keep)
	total := 0
	for {
		ids, err := s.db.AuditEntry.Query().Where(auditentry.CreatedAtLT(cut)).Limit(1000).IDs(sys)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		n, err := s.db.AuditEntry.Delete().Where(auditentry.IDIn(ids...)).Exec(sys)
		total += n
		if err != nil {
			return total, fmt.Errorf("audit: purge: %w", err)
		}
	}
}

// clip cuts s to at most n bytes without splitting a UTF-8 character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
