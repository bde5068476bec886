package app

import (
	"context"
	"time"
)

// PurgeAudit runs the janitor's audit job once: 操作日志 entries older than
// the retention period (LINLI_AUDIT_RETENTION_DAYS) are deleted. It says how
// many.
func (a *App) PurgeAudit(ctx context.Context) (int, error) {
	days := a.cfg.AuditRetentionDays
	if days == 0 { // a configuration built in code rather than loaded
		days = 365
	}
	return a.audit.Purge(ctx, time.Duration(days)*24*time.Hour)
}
