package httpapi

import (
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// label turns a location such as "body.floors" or "query.size" into a
// label a person recognises: "楼层数（floors）".
func (srv *server) label(loc string) string {
	name := loc
	if i := strings.LastIndexByte(loc, '.'); i >= 0 {
		name = loc[i+1:]
	}
	if name == "body" {
		return "请求内容"
	}
	if label, ok := labelOverrides[name]; ok {
		return label + "（" + name + "）"
	}
	if label, ok := srv.docLabels()[name]; ok {
		return label + "（" + name + "）"
	}
	return name
}

// docLabels returns the labels the API's own documentation gives its
// fields: the doc tag of each request body property and each parameter,
// up to its first pause. A name documented with different labels in
// different places has none unless labelOverrides gives it one. It is
// built once, at the first error, when every operation is registered.
func (srv *server) docLabels() map[string]string {
	if srv.api == nil {
		return nil
	}
	srv.labelsOnce.Do(func() { srv.labels = DocLabels(srv.api.OpenAPI()) })
	return srv.labels
}

// DocLabels returns, for every request body field and parameter name
// documented the same way wherever it appears in doc, the label its
// description gives.
func DocLabels(doc *huma.OpenAPI) map[string]string {
	seen := map[string]map[string]bool{}
	add := func(name, description string) {
		l := labelOf(description)
		if l == "" {
			return
		}
		if seen[name] == nil {
			seen[name] = map[string]bool{}
		}
		seen[name][l] = true
	}
	var registry huma.Registry
	if doc.Components != nil {
		registry = doc.Components.Schemas
	}
	visited := map[*huma.Schema]bool{}
	var walk func(s *huma.Schema)
	walk = func(s *huma.Schema) {
		if s == nil {
			return
		}
		if s.Ref != "" && registry != nil {
			s = registry.SchemaFromRef(s.Ref)
		}
		if s == nil || visited[s] {
			return
		}
		visited[s] = true
		for name, p := range s.Properties {
			add(name, p.Description)
			walk(p)
		}
		walk(s.Items)
		for _, sub := range s.OneOf {
			walk(sub)
		}
		for _, sub := range s.AnyOf {
			walk(sub)
		}
		for _, sub := range s.AllOf {
			walk(sub)
		}
	}
	for _, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			for _, p := range op.Parameters {
				add(p.Name, p.Description)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					walk(mt.Schema)
				}
			}
		}
	}
	labels := map[string]string{}
	for name, ls := range seen {
		if len(ls) != 1 {
			continue
		}
		for l := range ls {
			labels[name] = l
		}
	}
	return labels
}

// labelOf is a description's first words: up to the first pause.
func labelOf(description string) string {
	if i := strings.IndexAny(description, "：（，。；、 (,;:"); i >= 0 {
		description = description[:i]
	}
	description = strings.TrimSpace(description)
	for _, r := range description {
		if r >= utf8.RuneSelf {
			return description
		}
	}
	// Only Latin words before the pause ("true 停用；false 启用",
	// "SIP Call-ID"): not a label a person recognises.
	return ""
}

// labelOverrides names fields whose doc tag is missing, reads badly as a
// label, or differs between the places the field appears.
var labelOverrides = map[string]string{
	"account":         "账号",
	"password":        "密码",
	"name":            "名称",
	"phone":           "电话",
	"email":           "邮箱",
	"role":            "角色",
	"address":         "详细地址",
	"number":          "编号",
	"area_id":         "区域",
	"building_id":     "楼栋",
	"unit_id":         "单元",
	"type":            "单元类型",
	"floor":           "楼层编号",
	"rooms_per_floor": "每层房间数",
	"id":              "编号",
	"uid":             "单元编号",
	"kind":            "设备类型",
	"serial":          "序列号",
	"slot":            "安装位置",
	"index":           "编号",
	"community_id":    "小区编号",
	"orientation":     "屏幕方向",
	"resident_id":     "业主",
	"unit_ids":        "可开的单元",
	"valid_until":     "有效时间",
	"format":          "卡号格式",
	"mode":            "卡模式",
	"since":           "版本号",
	"reason":          "打回原因",
	"gender":          "性别",
	"room_id":         "房间",
	"q":               "姓名或手机号",
	"status":          "状态",
	"sdp":             "SDP",
}
