package password

import (
	"strings"
	"testing"
)

// TestCheckPersonal: a password built on the account's own details, the
// product's name or the account's communities is refused with a reason
// that says which.
func TestCheckPersonal(t *testing.T) {
	who := Personal{
		Account:     "wangjl",
		Name:        "王建林",
		Phone:       "13912345678",
		Email:       "Jianlin.Wang@example.com",
		Communities: []string{"阳光花园", "Sunny Garden"},
	}
	tests := []struct {
		pw, want string // want: substring of the reason; "" = acceptable
	}{
		{"13912345678", "手机号"},
		{"abc13912345678", "手机号"},
		{"87654321931", "手机号"},
		{"Jianlin.Wang@example.com", "邮箱"},
		{"jianlin.wang2024", "邮箱"},
		{"王建林123456", "姓名"},
		{"wangjl2024!", "账号"},
		{"!!LJGNAW", "账号"},
		{"Linli123456", "邻里"},
		{"123linli!!", "邻里"},
		{"ILNIL2026", "邻里"},
		{"邻里12345678", "邻里"},
		{"阳光花园2024", "小区"},
		{"sunnygarden1", "小区"},
		{"SunnyGarden!88", "小区"},
		{"Linli-2026-wuye", ""},
		{"春风十里不如你啊", ""},
		{"Wang-Jian-Lin-hills", ""},
	}
	for _, tt := range tests {
		got := Check(tt.pw, who)
		if tt.want == "" && got != "" {
			t.Errorf("Check(%q) = %q, want acceptable", tt.pw, got)
		}
		if tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("Check(%q) = %q, want a reason containing %q", tt.pw, got, tt.want)
		}
	}
}

// TestCheckPatterns: the guessable shapes of Chinese passwords are refused
// by rule (love numbers, keyboard walks, pinyin names with birthdays, a
// common word with digits around it), while passwords merely near them pass.
func TestCheckPatterns(t *testing.T) {
	tests := []struct {
		pw, want string
	}{
		{"5201314520", "520"},
		{"13145201314", "520"},
		{"521521521", "520"},
		{"woaini5201314", "520"},
		{"1qaz2wsx3edc", "键盘"},
		{"zaq12wsx", "键盘"},
		{"qwerasdfzxcv", "键盘"},
		{"1234qwer", "键盘"},
		{"0987654321", "键盘"},
		{"asdfghjkl;", "键盘"},
		{"!QAZ2wsx", "键盘"},
		{"zhangwei1990", "拼音"},
		{"liuyang19900512", "拼音"},
		{"Wangfang880512", "拼音"},
		{"19880808chen", "拼音"},
		{"huangxiaoming2001", "拼音"},
		{"zhang123456", "拼音"},
		{"wang123456", "拼音"},
		{"zhangwei1314", "拼音"},
		{"a5201314", "字母"},
		{"zz123456", "字母"},
		{"abc19900101", "字母"},
		{"110110110", "常见"},
		{"passpass", "重复"},
		{"abcdabcd", "重复"},
		{"0123456789", "键盘"},
		{"25802580", "常见"},
		{"dragon2024", "常见"},
		{"Password!1", "常见"},
		{"88iloveyou", "常见"},
		{"zhangwei-hills-7", ""},
		{"5208-river-1314", ""},
		{"qaws-Mango-71", ""},
		{"liu19991399x", ""},
		{"xk29-lamp", ""},
		{"Zhang-Harbor-2026", ""},
		{"mango1957x", ""},
	}
	for _, tt := range tests {
		got := Check(tt.pw, Personal{Account: "tester"})
		if tt.want == "" && got != "" {
			t.Errorf("Check(%q) = %q, want acceptable", tt.pw, got)
		}
		if tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("Check(%q) = %q, want a reason containing %q", tt.pw, got, tt.want)
		}
	}
}
