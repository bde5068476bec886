package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	ok, err := Verify("correct horse battery", h)
	if err != nil || !ok {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	ok, err = Verify("correct horse batterY", h)
	if err != nil || ok {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	h2, _ := Hash("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=1,t=1,p=1$$", "$bcrypt$x$y$z$w", "$argon2id$v=19$m=x$a$b"} {
		if _, err := Verify("x", bad); err == nil {
			t.Errorf("Verify(%q) accepted a malformed hash", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		pw, account string
		wantReason  string // substring; "" = acceptable
	}{
		{"short", "zhang", "至少需要 8"},
		{"123456", "zhang", "至少"},
		{"password", "zhang", "常见"},
		{"PASSWORD", "zhang", "常见"},
		{"12345678", "zhang", "常见"},
		{"woaini1314", "zhang", "常见"},
		{"zhangsan01", "zhangsan01", "账号"},
		{"ZhangSan01", "zhangsan01", "账号"},
		{"        ", "zhang", "空格"},
		{strings.Repeat("x", 129), "zhang", "不能超过"},
		{"Linli-2026-wuye", "zhang", ""},
		{"春风十里不如你啊", "zhang", ""},
	}
	for _, tt := range tests {
		got := Check(tt.pw, Personal{Account: tt.account})
		if tt.wantReason == "" && got != "" {
			t.Errorf("Check(%q) = %q, want acceptable", tt.pw, got)
		}
		if tt.wantReason != "" && !strings.Contains(got, tt.wantReason) {
			t.Errorf("Check(%q) = %q, want reason containing %q", tt.pw, got, tt.wantReason)
		}
	}
}

func TestCommonListSize(t *testing.T) {
	if n := CommonCount(); n < 10000 {
		t.Fatalf("common password list has %d entries, want at least 10,000", n)
	}
}
