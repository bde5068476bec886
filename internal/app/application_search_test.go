package app_test

import (
	"net/url"
	"slices"
	"testing"

	"linli/internal/apptest"
)

// TestApplicationSearch: 业主申请列表's 姓名或手机号 (q) finds applications by
// part of the name or of the phone, as 业主列表's does, and combines with 状态.
func TestApplicationSearch(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		a := s.NewCommunity(t, s.Operator(), "搜索申请小区", "AS")
		m := a.Manager
		token := applyToken(t, m, a)
		anon := s.Client("phone browser")
		for _, ap := range []struct{ name, phone string }{
			{"测试家属", "13168035102"},
			{"李清朋", "13900001234"},
		} {
			ct, body := applicationForm(a.RoomID, ap.name, ap.phone, 0)
			if r := anon.DoType("POST", "/app/v1/apply/"+token, ct, body); r.Status != 201 {
				t.Fatalf("submit %s: %d %s", ap.name, r.Status, r.Body)
			}
		}

		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"q=" + url.QueryEscape("测试"), []string{"测试家属"}},
			{"q=" + url.QueryEscape("李清朋"), []string{"李清朋"}},
			{"q=1234", []string{"李清朋"}},
			{"q=131680", []string{"测试家属"}},
			{"q=1", []string{"李清朋", "测试家属"}},
			{"q=" + url.QueryEscape("王五"), nil},
			{"q=" + url.QueryEscape(" 李清朋 "), []string{"李清朋"}},
			{"q=" + url.QueryEscape("测试") + "&status=pending", []string{"测试家属"}},
			{"q=" + url.QueryEscape("测试") + "&status=approved", nil},
		} {
			var list struct {
				Items []applicationView
				Total int
			}
			m.Must(200, "GET", a.Path("/applications?"+tt.query), nil).JSON(t, &list)
			var got []string
			for _, it := range list.Items {
				got = append(got, it.Name)
			}
			if !slices.Equal(got, tt.want) || list.Total != len(tt.want) {
				t.Errorf("%s: %v (total %d), want %v", tt.query, got, list.Total, tt.want)
			}
		}
		// Longer than the 32 characters the search box takes: refused, as for residents.
		m.Must(422, "GET", a.Path("/applications?q="+url.QueryEscape("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三")), nil)
	})
}
