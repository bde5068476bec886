package app_test

import (
	"fmt"
	"strings"
	"testing"

	"linli/internal/apptest"
)

// TestBadInput sends wrong input to every kind of form and checks that each is
// refused with a message naming the field, and that nothing is written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "输入小区", "I")
		m := a.Manager
		long := strings.Repeat("长", 51)
		batch := a.Path(fmt.Sprintf("/units/%d/rooms/batch", a.UnitID))
		tests := []struct {
			name        string
			c           *apptest.Client
			method      string
			path        string
			contentType string
			body        any
			status      int
			want        string // in the detail
		}{
			{"empty community name", op, "POST", "/api/v1/communities", "", map[string]any{"name": "", "region_code": "440306", "address": "x"}, 422, "名称（name）"},
			{"blank community name", op, "POST", "/api/v1/communities", "", map[string]any{"name": "   ", "region_code": "440306", "address": "x"}, 422, "小区名称不能为空"},
			{"overlong community name", op, "POST", "/api/v1/communities", "", map[string]any{"name": long, "region_code": "440306", "address": "x"}, 422, "不能超过 50 个字符"},
			{"unknown region", op, "POST", "/api/v1/communities", "", map[string]any{"name": "新小区", "region_code": "999999", "address": "x"}, 422, "所在城市不正确"},
			{"province as region", op, "POST", "/api/v1/communities", "", map[string]any{"name": "新小区", "region_code": "440000", "address": "x"}, 422, "所在城市不正确"},
			{"region not digits", op, "POST", "/api/v1/communities", "", map[string]any{"name": "新小区", "region_code": "深圳", "address": "x"}, 422, "所在城市（region_code）"},
			{"missing address", op, "POST", "/api/v1/communities", "", map[string]any{"name": "新小区", "region_code": "440306"}, 422, "详细地址（address）：必填"},
			{"wall stations 1000", m, "PATCH", a.Path(""), "", map[string]any{"wall_station_count": 1000}, 422, "围墙机数量（wall_station_count）：不能大于 99"},
			{"bad card type", m, "PATCH", a.Path(""), "", map[string]any{"card_type": "nfc"}, 422, "门禁卡类型（card_type）"},
			{"short community password", m, "PATCH", a.Path(""), "", map[string]any{"community_password": "12"}, 422, "小区密码（community_password）"},
			{"community password symbols", m, "PATCH", a.Path(""), "", map[string]any{"community_password": "12 34;"}, 422, "小区密码须为 4 到 16 位数字或字母"},
			{"empty role group", m, "PATCH", a.Path(""), "", map[string]any{"resident_roles": []string{}}, 422, "业主角色组（resident_roles）"},
			{"duplicate roles", m, "PATCH", a.Path(""), "", map[string]any{"resident_roles": []string{"业主", "业主"}}, 422, "重复"},
			{"area number text", m, "POST", a.Path("/areas"), "", map[string]any{"number": "一"}, 422, "编号（number）：应为整数"},
			{"area number 0", m, "POST", a.Path("/areas"), "", map[string]any{"number": 0}, 422, "编号（number）：不能小于 1"},
			{"area number missing", m, "POST", a.Path("/areas"), "", map[string]any{"name": "1区"}, 422, "编号（number）：必填"},
			{"area name overlong", m, "POST", a.Path("/areas"), "", map[string]any{"number": 9, "name": long}, 422, "名称（name）：不能超过 20 个字符"},
			{"area name control chars", m, "POST", a.Path("/areas"), "", map[string]any{"number": 9, "name": "a\u0000b"}, 422, "控制字符"},
			{"building in unknown area", m, "POST", a.Path("/buildings"), "", map[string]any{"area_id": 99999, "number": 1}, 422, "所选区域不存在"},
			{"unit device count 0", m, "POST", a.Path("/units"), "", map[string]any{"building_id": a.BuildingID, "number": 2, "device_count": 0}, 422, "设备数量（device_count）"},
			{"unit bad type", m, "POST", a.Path("/units"), "", map[string]any{"building_id": a.BuildingID, "number": 2, "device_count": 1, "type": "tower"}, 422, "单元类型（type）"},
			{"room floor 0", m, "POST", a.Path("/rooms"), "", map[string]any{"unit_id": a.UnitID, "floor": 0, "number": 1}, 422, "楼层编号（floor）：不能小于 1"},
			{"room floor 1000", m, "POST", a.Path("/rooms"), "", map[string]any{"unit_id": a.UnitID, "floor": 1000, "number": 1}, 422, "楼层编号（floor）：不能大于 99"},
			{"room number text", m, "POST", a.Path("/rooms"), "", map[string]any{"unit_id": a.UnitID, "floor": 1, "number": "01a"}, 422, "编号（number）：应为整数"},
			{"batch 0 floors", m, "POST", batch, "", map[string]any{"floors": 0, "rooms_per_floor": 4}, 422, "楼层数（floors）"},
			{"batch 1000 floors", m, "POST", batch, "", map[string]any{"floors": 1000, "rooms_per_floor": 4}, 422, "楼层数（floors）：不能大于 99"},
			{"batch 100 x 100", m, "POST", batch, "", map[string]any{"floors": 100, "rooms_per_floor": 100}, 422, "每层房间数（rooms_per_floor）：不能大于 30"},
			{"batch over 2000 rooms", m, "POST", batch, "", map[string]any{"floors": 99, "rooms_per_floor": 30}, 422, "一次最多批量添加 2000 个房间"},
			{"malformed JSON", m, "POST", a.Path("/areas"), "", `{"number": 1,`, 400, "不是有效的 JSON"},
			{"empty body", m, "POST", a.Path("/areas"), "", "", 400, "请求内容不能为空"},
			{"form instead of JSON", m, "POST", a.Path("/areas"), "application/x-www-form-urlencoded", "number=1", 415, "application/json"},
			{"XML instead of JSON", op, "POST", "/api/v1/communities", "application/xml", "<name>x</name>", 415, "application/json"},
			{"unknown field", m, "POST", a.Path("/areas"), "", map[string]any{"number": 9, "nmae": "x"}, 422, "不认识的字段"}, //nolint:misspell // a mistyped field name is the point
			{"account name with spaces", op, "POST", "/api/v1/accounts", "", map[string]any{"account": "wang jl", "name": "王", "phone": "13800000000", "community_ids": []int{a.ID}}, 422, "账号须为"},
			{"account bad phone", op, "POST", "/api/v1/accounts", "", map[string]any{"account": "wangjl", "name": "王", "phone": "phone-no", "community_ids": []int{a.ID}}, 422, "电话格式不正确"},
			{"account bad email", op, "POST", "/api/v1/accounts", "", map[string]any{"account": "wangjl", "name": "王", "phone": "13800000000", "email": "not-an-email", "community_ids": []int{a.ID}}, 422, "邮箱"},
			{"account without community", op, "POST", "/api/v1/accounts", "", map[string]any{"account": "wangjl", "name": "王", "phone": "13800000000"}, 422, "至少要属于一个小区"},
			{"account unknown community", op, "POST", "/api/v1/accounts", "", map[string]any{"account": "wangjl", "name": "王", "phone": "13800000000", "community_ids": []int{9999}}, 422, "所选小区不存在"},
			{"page 0", m, "GET", a.Path("/rooms?page=0"), "", nil, 422, "页码（page）"},
			{"size 1000", m, "GET", a.Path("/rooms?size=1000"), "", nil, 422, "每页条数（size）：不能大于 100"},
			{"size text", m, "GET", a.Path("/rooms?size=ten"), "", nil, 422, "每页条数（size）"},
			{"cid text", m, "GET", "/api/v1/communities/abc/tree", "", nil, 422, "小区编号（cid）"},
			{"unknown API path", m, "GET", "/api/v1/nothing-here", "", nil, 404, "接口不存在"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := fingerprint(t, op, a)
				ct := tt.contentType
				if ct == "" {
					ct = "application/json"
				}
				r := tt.c.DoType(tt.method, tt.path, ct, tt.body)
				if r.Status != tt.status || !strings.Contains(r.Detail(), tt.want) {
					t.Errorf("%s %s: %d %s, want %d with %q", tt.method, tt.path, r.Status, r.Body, tt.status, tt.want)
				}
				if after := fingerprint(t, op, a); after != before {
					t.Errorf("refused input changed data")
				}
			})
		}
	})
}

func fingerprint(t *testing.T, op *apptest.Client, a *apptest.Community) string {
	t.Helper()
	var sb strings.Builder
	for _, p := range []string{a.Path(""), a.Path("/tree"), a.Path("/rooms?size=100"), "/api/v1/accounts?size=100", "/api/v1/communities?size=100"} {
		sb.Write(op.Must(200, "GET", p, nil).Body)
	}
	return sb.String()
}
