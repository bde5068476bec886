package app_test

import (
	"strings"
	"testing"
	"time"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

// TestInvisibleCharactersRefused sends names and texts that hold a
// bidirectional control (U+202E makes "王明" read backwards in a list), a
// zero-width space or a byte order mark to every kind of free text people
// type, and checks that each is refused naming the field.
func TestInvisibleCharactersRefused(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	a := s.NewCommunity(t, op, "字符小区", "ZW")
	m := a.Manager
	m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "甲", "role": "业主", "phone": "13911160001"})
	resident := appSignInAs(t, s, "13911160001", "")
	now := time.Now()
	pass := func(name, note string) map[string]any {
		return map[string]any{"room_id": a.RoomID, "visitor_name": name, "note": note, "kind": "visitor",
			"valid_from": now.Add(-time.Minute).Format(time.RFC3339), "valid_to": now.Add(time.Hour).Format(time.RFC3339), "max_uses": 1}
	}
	notice := func(title, content string) map[string]any {
		return map[string]any{"title": title, "content": content, "show_from": chinaToday(), "show_to": chinaToday()}
	}
	const rlo, zwsp, bom = "\u202e", "\u200b", "\ufeff"
	tests := []struct {
		name    string
		c       *apptest.Client
		headers map[string]string
		method  string
		path    string
		body    any
		want    string
	}{
		{"community name", op, nil, "POST", "/api/v1/communities", map[string]any{"name": "新" + rlo + "小区", "region_code": "440306", "address": "x"}, "小区名称含有不可见的格式字符"},
		{"area name", m, nil, "POST", a.Path("/areas"), map[string]any{"number": 9, "name": "9" + zwsp + "区"}, "含有不可见的格式字符"},
		{"resident name", m, nil, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "王" + rlo + "明", "role": "业主"}, "含有不可见的格式字符"},
		{"notice title", m, nil, "POST", a.Path("/notices"), notice(bom+"停水通知", "明天停水"), "标题含有不可见的格式字符"},
		{"notice content", m, nil, "POST", a.Path("/notices"), notice("停水通知", "明天\n停"+rlo+"水"), "内容含有不可见的格式字符"},
		{"visitor name", s.Client("app"), resident, "POST", "/app/v1/passes", pass("王"+rlo+"访客", ""), "访客姓名含有不可见的格式字符"},
		{"visitor note", s.Client("app"), resident, "POST", "/app/v1/passes", pass("王访客", "快递"+zwsp), "备注含有不可见的格式字符"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.DoHeaders(tt.method, tt.path, tt.headers, tt.body)
			if r.Status != 422 || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("%s %s: %d %s, want 422 with %q", tt.method, tt.path, r.Status, r.Body, tt.want)
			}
		})
	}
	// A workbook row: refused with its sheet, row and column.
	book := fillTemplate(t, m, a, [][]string{{"0101", "王" + rlo + "明", "13911160002"}})
	if r := importFile(m, a, "residents.xlsx", book); !strings.Contains(string(r.Body), "姓名含有不可见的格式字符") {
		t.Errorf("import: %d %s, want the row refused", r.Status, r.Body)
	}
	// A notice of several lines is still accepted.
	m.Must(201, "POST", a.Path("/notices"), notice("停水通知", "明天停水。\n请提前储水。"))
}
