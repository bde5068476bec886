package validate

import (
	"strings"
	"testing"

	"linli/internal/errs"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, v string
		want    string // in the error; "" = accepted
	}{
		{"Chinese name", "  王小明 ", ""},
		{"family emoji (joined by U+200D)", "王家👨\u200d👩\u200d👧", ""},
		{"middle dot", "阿卜杜拉·买买提", ""},
		{"empty", "   ", "姓名不能为空"},
		{"too long", strings.Repeat("长", 33), "姓名不能超过 32 个字符"},
		{"NUL", "王\x00明", "姓名含有不可见的控制字符"},
		{"line break", "王\n明", "姓名含有不可见的控制字符"},
		{"invalid UTF-8", "王\xff明", "姓名含有无法识别的字符"},
		{"right-to-left override", "王\u202e明", "姓名含有不可见的格式字符"},
		{"left-to-right embedding", "\u202a王明", "格式字符"},
		{"pop directional formatting", "王明\u202c", "格式字符"},
		{"left-to-right mark", "王\u200e明", "格式字符"},
		{"right-to-left mark", "王\u200f明", "格式字符"},
		{"Arabic letter mark", "王\u061c明", "格式字符"},
		{"first strong isolate", "王\u2068明\u2069", "格式字符"},
		{"left-to-right isolate", "王\u2066明", "格式字符"},
		{"zero-width space", "王\u200b明", "格式字符"},
		{"zero-width non-joiner", "王\u200c明", "格式字符"},
		{"word joiner", "王\u2060明", "格式字符"},
		{"byte order mark", "\ufeff王明", "格式字符"},
		{"soft hyphen", "王\u00ad明", "格式字符"},
	}
	for _, tt := range tests {
		v, err := Text("name", "姓名", tt.v, 1, 32)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "" && v != strings.TrimSpace(tt.v):
			t.Errorf("%s: %q, want it trimmed", tt.name, v)
		case tt.want != "" && (err == nil || errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an Invalid error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestVisibleLines(t *testing.T) {
	if err := VisibleLines("content", "内容", "明天停水。\r\n\t请储水。"); err != nil {
		t.Errorf("line breaks and tabs: %v", err)
	}
	for _, v := range []string{"停水\u202e通知", "停水\x00", "停水\u200b", "停水\xff"} {
		if err := VisibleLines("content", "内容", v); err == nil || !strings.Contains(err.Error(), "内容含有") {
			t.Errorf("%q: %v, want refused naming 内容", v, err)
		}
	}
}
