package audit

import (
	"context"
	"fmt"
	"io"
	"time"

	"linli/internal/ent"
	"linli/internal/ent/auditentry"
	"linli/internal/ent/community"
	"linli/internal/errs"
	"linli/internal/region"
	"linli/internal/xlsx"
)

// Filter narrows the log. Staff see only the entries of their communities
// and their own, whatever the filter says (the data layer enforces it).
type Filter struct {
	Person      string    `query:"person" maxLength:"64" doc:"操作人：账号或称呼（包含）"`
	Category    string    `query:"category" enum:"change,reveal,signin,signin_failed," doc:"类别：change 变更；reveal 查看/导出；signin 登录；signin_failed 登录失败"`
	Q           string    `query:"q" maxLength:"64" doc:"操作：名称或代码（包含），如 删除楼栋、delete-building"`
	CommunityID int       `query:"community_id" minimum:"0" doc:"小区"`
	From        time.Time `query:"from" doc:"开始时间（含），RFC 3339"`
	To          time.Time `query:"to" doc:"结束时间（不含），RFC 3339"`
}

// View is an entry as the API shows it.
type View struct {
	ID            int       `json:"id"`
	CreatedAt     time.Time `json:"created_at" doc:"时间"`
	AccountID     int       `json:"account_id" doc:"操作账号编号；0 表示未登录（登录失败）"`
	Account       string    `json:"account" doc:"操作账号；登录失败时为所填账号"`
	ActorName     string    `json:"actor_name" doc:"操作人称呼"`
	CommunityID   int       `json:"community_id" doc:"所涉小区；0 表示无"`
	CommunityName string    `json:"community_name" doc:"所涉小区名称"`
	Category      string    `json:"category" enum:"change,reveal,signin,signin_failed" doc:"类别"`
	CategoryName  string    `json:"category_name" doc:"类别名称"`
	Kind          string    `json:"kind" doc:"操作代码（接口 operationId）"`
	Summary       string    `json:"summary" doc:"操作"`
	Method        string    `json:"method"`
	Path          string    `json:"path" doc:"请求路径"`
	Object        string    `json:"object" doc:"操作对象（路径参数）"`
	IP            string    `json:"ip" doc:"来源地址"`
	Status        int       `json:"status" doc:"结果（HTTP 状态码）"`
	Detail        string    `json:"detail" doc:"被拒绝时的原因"`
}

// Succeeded reports whether the operation of v went through.
func (v View) Succeeded() bool { return v.Status < 400 }

func (s *Service) query(ctx context.Context, f Filter) (*ent.AuditEntryQuery, error) {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, errs.Field("to", "结束时间必须晚于开始时间")
	}
	q := s.db.AuditEntry.Query()
	if f.Person != "" {
		q.Where(auditentry.Or(auditentry.AccountContainsFold(f.Person), auditentry.ActorNameContainsFold(f.Person)))
	}
	if f.Category != "" {
		q.Where(auditentry.Category(f.Category))
	}
	if f.Q != "" {
		q.Where(auditentry.Or(auditentry.KindContainsFold(f.Q), auditentry.SummaryContainsFold(f.Q)))
	}
	if f.CommunityID != 0 {
		q.Where(auditentry.CommunityID(f.CommunityID))
	}
	if !f.From.IsZero() {
		q.Where(auditentry.CreatedAtGTE(f.From))
	}
	if !f.To.IsZero() {
		q.Where(auditentry.CreatedAtLT(f.To))
	}
	return q, nil
}

// List returns a page of the entries of f, newest first, and how many there
// are in all.
func (s *Service) List(ctx context.Context, f Filter, offset, limit int) ([]View, int, error) {
	q, err := s.query(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: count: %w", err)
	}
	rows, err := q.Order(ent.Desc(auditentry.FieldCreatedAt), ent.Desc(auditentry.FieldID)).
		Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	views, err := s.views(ctx, rows)
	return views, total, err
}

// Each calls fn with every entry of f, newest first, a batch at a time.
func (s *Service) Each(ctx context.Context, f Filter, fn func(View) error) error {
	last := 0
	for {
		q, err := s.query(ctx, f)
		if err != nil {
			return err
		}
		if last != 0 {
			q.Where(auditentry.IDLT(last))
		}
		rows, err := q.Order(ent.Desc(auditentry.FieldID)).Limit(1000).All(ctx)
		if err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		views, err := s.views(ctx, rows)
		if err != nil {
			return err
		}
		for _, v := range views {
			if err := fn(v); err != nil {
				return err
			}
		}
		last = rows[len(rows)-1].ID
	}
}

// views turns rows into their API form, with the names of their
// communities.
func (s *Service) views(ctx context.Context, rows []*ent.AuditEntry) ([]View, error) {
	var cids []int
	for _, r := range rows {
		if r.CommunityID != nil {
			cids = append(cids, *r.CommunityID)
		}
	}
	names := map[int]string{}
	if len(cids) > 0 {
		// Names are read as the viewer: a staff member's own entry may name
		// a community that is not theirs (a refused attempt on it), and that
		// community's name stays hidden from them. A community that is gone
		// has no name either.
		cs, err := s.db.Community.Query().Where(community.IDIn(cids...)).
			Select(community.FieldID, community.FieldName).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("audit: community names: %w", err)
		}
		for _, c := range cs {
			names[c.ID] = c.Name
		}
	}
	out := make([]View, len(rows))
	for i, r := range rows {
		v := View{ID: r.ID, CreatedAt: r.CreatedAt, Account: r.Account, ActorName: r.ActorName,
			Category: r.Category, CategoryName: CategoryNames[r.Category], Kind: r.Kind, Summary: r.Summary,
			Method: r.Method, Path: r.Path, Object: r.Object, IP: r.IP, Status: r.Status, Detail: r.Detail}
		if r.AccountID != nil {
			v.AccountID = *r.AccountID
		}
		if r.CommunityID != nil {
			v.CommunityID = *r.CommunityID
			v.CommunityName = names[v.CommunityID]
		}
		out[i] = v
	}
	return out, nil
}

// Export writes the entries of f as a workbook, text escaped against
// formula injection.
func (s *Service) Export(ctx context.Context, f Filter, w io.Writer) error {
	xw := xlsx.NewWriter(w)
	head := []string{"时间", "操作人账号", "操作人", "类别", "操作", "操作代码", "小区", "操作对象", "来源地址", "结果", "原因"}
	if err := xw.Sheet("操作日志", 20, 16, 12, 10, 24, 24, 20, 20, 16, 8, 30); err != nil {
		return err
	}
	cells := make([]xlsx.Cell, len(head))
	for i, h := range head {
		cells[i] = xlsx.Cell{V: h, Style: xlsx.Bold}
	}
	xw.Add(cells...)
	text := func(v string) xlsx.Cell { return xlsx.Cell{V: xlsx.Escape(v), Style: xlsx.Text} }
	err := s.Each(ctx, f, func(v View) error {
		result := "成功"
		if !v.Succeeded() {
			result = fmt.Sprintf("失败（%d）", v.Status)
		}
		xw.Add(xlsx.Cell{V: v.CreatedAt.In(region.Time).Format("2006-01-02 15:04:05")}, text(v.Account), text(v.ActorName),
			text(v.CategoryName), text(v.Summary), text(v.Kind), text(v.CommunityName), text(v.Object), text(v.IP),
			text(result), text(v.Detail))
		return nil
	})
	if err != nil {
		return err
	}
	return xw.Close()
}
