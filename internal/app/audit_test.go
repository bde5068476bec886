package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/audit"
)

type auditEntry struct {
	ID            int    `json:"id"`
	AccountID     int    `json:"account_id"`
	Account       string `json:"account"`
	ActorName     string `json:"actor_name"`
	CommunityID   int    `json:"community_id"`
	CommunityName string `json:"community_name"`
	Category      string `json:"category"`
	Kind          string `json:"kind"`
	Summary       string `json:"summary"`
	Object        string `json:"object"`
	IP            string `json:"ip"`
	Status        int    `json:"status"`
	Detail        string `json:"detail"`
}

type auditPage struct {
	Items []auditEntry `json:"items"`
	Total int          `json:"total"`
}

// auditLog returns the entries c sees with query q (newest first).
func auditLog(t *testing.T, c *apptest.Client, q url.Values) auditPage {
	t.Helper()
	q.Set("size", "100")
	var p auditPage
	c.Must(200, "GET", "/api/v1/audit-log?"+q.Encode(), nil).JSON(t, &p)
	return p
}

func findEntry(p auditPage, kind string) *auditEntry {
	for i := range p.Items {
		if p.Items[i].Kind == kind {
			return &p.Items[i]
		}
	}
	return nil
}

// TestAuditLog: every change, reveal and sign-in is logged with who, from
// where, on what and with which result; staff see their community's
// entries and their own, operators all; filters, export, no way to edit or
// delete, and retention.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "审计甲小区", "AU")
		b := s.NewCommunity(t, op, "审计乙小区", "BU")
		m := a.Manager

		// A change: who, where, what, on which object, the result.
		var bld created
		m.Must(201, "POST", a.Path("/buildings"), map[string]any{"area_id": a.AreaID, "number": 9}).JSON(t, &bld)
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/buildings/%d", bld.ID)), nil)
		b.Manager.Must(201, "POST", b.Path("/buildings"), map[string]any{"area_id": b.AreaID, "number": 9})
		// Opening 门口呼叫 takes a socket ticket: that changes nothing.
		m.Must(200, "POST", "/api/v1/webcall/ticket", map[string]any{"community_id": a.ID})
		all := auditLog(t, m, url.Values{})
		if findEntry(all, "webcall-staff-ticket") != nil {
			t.Error("opening 门口呼叫 is logged as a change")
		}
		e := findEntry(all, "delete-building")
		if e == nil {
			t.Fatalf("no entry for the deletion: %+v", all.Items)
		}
		wantObject := fmt.Sprintf("小区编号 %d，区域、楼栋、单元或房间的编号 %d", a.ID, bld.ID)
		if e.Account != a.ManagerAccount || e.ActorName != "经理AU" || e.Category != "change" || e.Object != wantObject ||
			e.CommunityID != a.ID || e.CommunityName != "审计甲小区" || e.IP != "127.0.0.1" || e.Status != 204 || e.Summary == "" {
			t.Errorf("deletion entry %+v", *e)
		}

		// A refused change is logged with its reason.
		m.Must(403, "POST", "/api/v1/accounts", map[string]any{"account": "sneaky", "name": "x", "phone": "13700000000"})
		if e := findEntry(auditLog(t, m, url.Values{"q": {"create-account"}}), "create-account"); e == nil || e.Status != 403 || !strings.Contains(e.Detail, "平台管理员") {
			t.Errorf("refused change: %+v", e)
		}

		// Reveals: exports are logged although they change nothing.
		m.Must(200, "GET", a.Path("/residents/export.xlsx"), nil)
		if e := findEntry(auditLog(t, m, url.Values{"category": {"reveal"}}), "export-residents"); e == nil || e.CommunityID != a.ID {
			t.Errorf("export entry: %+v", e)
		}
		// 显示 of an ID number is a reveal, on its resident.
		var res created
		m.Must(201, "POST", a.Path("/residents"), map[string]any{
			"room_id": a.RoomID, "name": "审计业主", "role": "业主", "phone": "13912340077", "id_number": testIDNumber,
		}).JSON(t, &res)
		m.Must(200, "POST", a.Path(fmt.Sprintf("/residents/%d/id-number/reveal", res.ID)), nil)
		if e := findEntry(auditLog(t, m, url.Values{"category": {"reveal"}}), "reveal-resident-id-number"); e == nil ||
			e.Object != fmt.Sprintf("小区编号 %d，业主编号 %d", a.ID, res.ID) || e.Status != 200 {
			t.Errorf("ID number reveal entry: %+v", e)
		}
		// Every operation named as a reveal exists.
		ids := map[string]bool{}
		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string `json:"operationId"`
			} `json:"paths"`
		}
		op.Must(200, "GET", "/api/openapi.json", nil).JSON(t, &doc)
		for _, methods := range doc.Paths {
			for _, o := range methods {
				ids[o.OperationID] = true
			}
		}
		for _, id := range audit.RevealOperations() {
			if !ids[id] {
				t.Errorf("reveal %q is no operation", id)
			}
		}

		// Reads that show nothing personal are not.
		if e := findEntry(auditLog(t, op, url.Values{}), "list-buildings"); e != nil {
			t.Errorf("a plain read was logged: %+v", e)
		}

		// Sign-ins and failures, with the account name tried.
		s.Client("guesser").Must(401, "POST", "/api/v1/session", map[string]any{"account": "NoSuchUser", "password": "guess-1"})
		s.Client("again").Must(200, "POST", "/api/v1/session", map[string]any{"account": a.ManagerAccount, "password": apptest.StaffPassword})
		s.Client("nobody").Must(204, "DELETE", "/api/v1/session", nil)
		if e := findEntry(auditLog(t, op, url.Values{"q": {"logout"}}), "logout"); e != nil {
			t.Errorf("a sign-out without a session was logged: %+v", e)
		}
		leaving := s.Client("leaving")
		leaving.Must(200, "POST", "/api/v1/session", map[string]any{"account": b.ManagerAccount, "password": apptest.StaffPassword})
		leaving.Must(204, "DELETE", "/api/v1/session", nil)
		if e := findEntry(auditLog(t, op, url.Values{"q": {"logout"}}), "logout"); e == nil || e.Account != b.ManagerAccount {
			t.Errorf("a sign-out: %+v", e)
		}
		failed := auditLog(t, op, url.Values{"category": {"signin_failed"}, "person": {"nosuch"}})
		if len(failed.Items) != 1 || failed.Items[0].Account != "nosuchuser" || failed.Items[0].AccountID != 0 ||
			failed.Items[0].Status != 401 || failed.Items[0].Detail != "账号或密码错误" || failed.Items[0].IP != "127.0.0.1" {
			t.Errorf("failed sign-ins %+v", failed.Items)
		}
		signIns := auditLog(t, op, url.Values{"category": {"signin"}, "person": {a.ManagerAccount}})
		if signIns.Total != 2 || signIns.Items[0].ActorName != "经理AU" || signIns.Items[0].AccountID == 0 {
			t.Errorf("sign-ins of %s: %+v", a.ManagerAccount, signIns.Items)
		}

		// Staff see their community's entries and their own, not another's;
		// their own attempt on another community does not tell its name.
		m.Must(200, "PATCH", "/api/v1/me", map[string]any{"name": "经理AU"})
		m.Must(404, "POST", b.Path("/buildings"), map[string]any{"area_id": b.AreaID, "number": 8})
		mine := auditLog(t, m, url.Values{})
		if findEntry(mine, "update-me") == nil {
			t.Error("staff do not see their own change of profile")
		}
		for _, e := range mine.Items {
			if e.Account == a.ManagerAccount {
				if e.CommunityID == b.ID && (e.CommunityName != "" || e.Status != 404) {
					t.Errorf("staff of A learn of B: %+v", e)
				}
				continue
			}
			if e.CommunityID == b.ID || e.Account == b.ManagerAccount || e.Account == "nosuchuser" {
				t.Errorf("staff of A see %+v", e)
			}
		}
		if p := auditLog(t, b.Manager, url.Values{"person": {a.ManagerAccount}}); p.Total != 1 || p.Items[0].Status != 404 || p.Items[0].CommunityName != "审计乙小区" {
			t.Errorf("staff of B see of A's attempts on B: %+v", p.Items)
		}
		// Operators see everything, filtered by person, operation and time.
		if p := auditLog(t, op, url.Values{"person": {b.ManagerAccount}, "q": {"create-building"}}); p.Total != 1 || p.Items[0].CommunityID != b.ID {
			t.Errorf("operator's filter: %+v", p.Items)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if p := auditLog(t, op, url.Values{"from": {future}}); p.Total != 0 {
			t.Errorf("entries from the future: %d", p.Total)
		}
		if p := auditLog(t, op, url.Values{"to": {future}, "community_id": {fmt.Sprint(b.ID)}}); p.Total == 0 {
			t.Error("no entries of B before now")
		}

		// Export to Excel, itself a reveal.
		sheet := unzipSheet(t, op.Must(200, "GET", "/api/v1/audit-log/export.xlsx?"+url.Values{"person": {a.ManagerAccount}}.Encode(), nil).Body)
		for _, want := range []string{"delete-building", "经理AU", "127.0.0.1", "审计甲小区"} {
			if !strings.Contains(sheet, want) {
				t.Errorf("the export lacks %q", want)
			}
		}
		if strings.Contains(sheet, b.ManagerAccount) {
			t.Error("the export ignores the filter")
		}
		if findEntry(auditLog(t, op, url.Values{"category": {"reveal"}}), "export-audit-log") == nil {
			t.Error("the export of the log was not logged")
		}

		// Append-only: no route edits or deletes an entry, nor does the data
		// layer (every field is immutable, and only the server deletes).
		id := all.Items[0].ID
		for _, method := range []string{"DELETE", "PATCH", "PUT"} {
			if r := op.Do(method, fmt.Sprintf("/api/v1/audit-log/%d", id), map[string]any{}); r.Status != 404 && r.Status != 405 {
				t.Errorf("%s of an entry: %d", method, r.Status)
			}
		}
		opCtx := actor.With(context.Background(), actor.Actor{Kind: actor.Operator, AccountID: 1})
		if err := s.App.Store().AuditEntry.DeleteOneID(id).Exec(opCtx); err == nil {
			t.Error("an operator deleted an entry")
		}

		// Retention: entries past LINLI_AUDIT_RETENTION_DAYS (365 by default) go.
		sys := actor.AsSystem(context.Background())
		old := func(days int) int {
			return s.App.Store().AuditEntry.Create().SetCreatedAt(time.Now().Add(-time.Duration(days) * 24 * time.Hour)).
				SetCategory("change").SetKind("old-change").SetMethod("POST").SetPath("/api/v1/x").SetStatus(200).SaveX(sys).ID
		}
		expired, kept := old(366), old(364)
		if n, err := s.App.PurgeAudit(context.Background()); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if s.App.Store().AuditEntry.Query().CountX(sys) == 0 {
			t.Fatal("the purge took everything")
		}
		if _, err := s.App.Store().AuditEntry.Get(sys, expired); err == nil {
			t.Error("an entry past retention remains")
		}
		if _, err := s.App.Store().AuditEntry.Get(sys, kept); err != nil {
			t.Errorf("an entry within retention is gone: %v", err)
		}
	})
}
