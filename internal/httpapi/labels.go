package httpapi

import (
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// label turns a location such as "body.floors" or "query.size" of the
// operation opID into a label a person recognises: "楼层数（floors）".
func (srv *server) label(opID, loc string) string {
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
	labels := srv.docLabels()
	if label, ok := labels.byOp[opID][name]; ok {
		return label + "（" + name + "）"
	}
	if label, ok := labels.all[name]; ok {
		return label + "（" + name + "）"
	}
	return name
}

// fieldLabels are the labels an API's documentation gives its request
// fields: the doc tag of each request body property and each parameter, up
// to its first pause.
type fieldLabels struct {
	byOp map[string]map[string]string // operation id → field name → label
	all  map[string]string            // names labelled the same by every operation
}

// docLabels returns the labels of the API's fields. They are read once, at
// the first error, when every operation is registered.
func (srv *server) docLabels() *fieldLabels {
	if srv.api == nil {
		return &fieldLabels{}
	}
	srv.labelsOnce.Do(func() { srv.labels = labelsOf(srv.api.OpenAPI()) })
	return srv.labels
}

func labelsOf(doc *huma.OpenAPI) *fieldLabels {
	var registry huma.Registry
	if doc.Components != nil {
		registry = doc.Components.Schemas
	}
	seen := map[string]map[string]bool{}
	byOp := map[string]map[string]string{}
	for _, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			labels := map[string]string{}
			add := func(name, description string) {
				l := labelOf(description)
				if l == "" {
					return
				}
				if _, ok := labels[name]; !ok {
					labels[name] = l
				}
				if seen[name] == nil {
					seen[name] = map[string]bool{}
				}
				seen[name][l] = true
			}
			for _, p := range op.Parameters {
				add(p.Name, p.Description)
			}
			if op.RequestBody != nil {
				visited := map[*huma.Schema]bool{}
				for _, mt := range op.RequestBody.Content {
					walkProperties(registry, mt.Schema, visited, add)
				}
			}
			byOp[op.OperationID] = labels
		}
	}
	all := map[string]string{}
	for name, ls := range seen {
		if len(ls) != 1 {
			continue
		}
		for l := range ls {
			all[name] = l
		}
	}
	return &fieldLabels{byOp: byOp, all: all}
}

// walkProperties calls add for every property of s and of the objects
// within it, following references into registry.
func walkProperties(registry huma.Registry, s *huma.Schema, visited map[*huma.Schema]bool, add func(name, description string)) {
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
		walkProperties(registry, p, visited, add)
	}
	walkProperties(registry, s.Items, visited, add)
	for _, subs := range [][]*huma.Schema{s.OneOf, s.AnyOf, s.AllOf} {
		for _, sub := range subs {
			walkProperties(registry, sub, visited, add)
		}
	}
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

// labelOverrides names fields whose doc tag is missing or reads badly as a
// label, and keeps the labels error messages have always used where the
// doc tags differ between the places a field appears.
var labelOverrides = map[string]string{
	"account":         "账号",
	"password":        "密码",
	"name":            "名称",
	"phone":           "电话",
	"email":           "邮箱",
	"role":            "角色",
	"number":          "编号",
	"area_id":         "区域",
	"building_id":     "楼栋",
	"unit_id":         "单元",
	"floor":           "楼层编号",
	"rooms_per_floor": "每层房间数",
	"id":              "编号",
	"uid":             "单元编号",
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
	"room_id":         "房间",
	"q":               "姓名或手机号",
	"status":          "状态",
	"sdp":             "SDP",
}
