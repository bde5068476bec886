package password

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Personal is what a new password must not be built on: the account's own
// details and the names of the communities it works for. Empty fields are
// ignored.
type Personal struct {
	Account     string
	Name        string
	Phone       string
	Email       string
	Communities []string
}

// productNames are the product's own names: "Linli123456" is the first thing
// an attacker tries against a Linli console.
var productNames = []string{"linli", "邻里"}

// Check returns a Chinese reason why pw is not acceptable as a new password
// for the account described by who, or "" when it is. The reason names what
// is wrong, so that the person can choose better instead of guessing.
func Check(pw string, who Personal) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		return fmt.Sprintf("新密码至少需要 %d 个字符", MinLength)
	case n > MaxLength:
		return fmt.Sprintf("新密码不能超过 %d 个字符", MaxLength)
	case pw == DefaultInitial:
		return "新密码不能是初始密码 123456"
	case strings.TrimSpace(pw) == "":
		return "新密码不能全是空格"
	}
	f := formsOf(pw)
	if reason := f.personal(who); reason != "" {
		return reason
	}
	for _, name := range productNames {
		if f.builtOn(name) {
			return "密码不能用产品名称“邻里”（linli）加数字或符号，请换一个"
		}
	}
	switch {
	case f.loveNumbers():
		return "520、1314 这类表白数字组合过于常见，请换一个"
	case f.keyboardWalk():
		return "键盘上相连的按键（如 qwerty、1qaz2wsx、123456）过于常见，请换一个"
	case f.repeated():
		return "重复的字符组合（如 110110110、abcabc）过于常见，请换一个"
	case f.pinyinBirthday():
		return "姓名拼音加生日或简单数字（如 zhangwei19900512、wang123456）容易被猜到，请换一个"
	case f.fewLetters():
		return "几个字母加生日或简单数字（如 a5201314、abc123456）过于常见，请换一个"
	case f.common():
		return "密码过于常见，容易被猜到，请换一个"
	}
	return ""
}

// forms are the shapes of a password the rules compare: lower-cased with
// separators removed ("Sunny-Garden!88" → "sunnygarden88") and its core
// without leading and trailing digits and symbols ("sunnygarden").
type forms struct {
	lower  string // lower-cased, as typed
	packed string // lower-cased, only letters and digits
	core   string // packed without digits at either end
}

func formsOf(pw string) forms {
	lower := strings.ToLower(pw)
	packed := pack(lower)
	return forms{lower: lower, packed: packed, core: strings.TrimFunc(packed, unicode.IsDigit)}
}

// pack keeps only letters and digits.
func pack(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// builtOn reports whether the password is word with only digits or symbols
// around it, in either direction and any case: for "wangjl" that is
// "WangJL2024!", "!ljgnaw" and "2024wangjl".
func (f forms) builtOn(word string) bool {
	w := pack(strings.ToLower(word))
	if utf8.RuneCountInString(w) < 2 {
		return false
	}
	wcore := strings.TrimFunc(w, unicode.IsDigit)
	for _, s := range []string{f.packed, f.core} {
		for _, c := range []string{s, reverse(s)} {
			if c == w || (utf8.RuneCountInString(wcore) >= 2 && c == wcore) {
				return true
			}
		}
	}
	return false
}

// personal returns why the password is built on who's own details.
func (f forms) personal(who Personal) string {
	if phone := digitsOf(who.Phone); len(phone) >= 7 {
		if strings.Contains(f.packed, phone) || strings.Contains(f.packed, reverse(phone)) {
			return "密码不能包含手机号"
		}
	}
	if email := strings.ToLower(strings.TrimSpace(who.Email)); email != "" {
		local, _, _ := strings.Cut(email, "@")
		if strings.Contains(f.lower, email) || (utf8.RuneCountInString(pack(local)) >= 4 && f.builtOn(local)) {
			return "密码不能包含邮箱地址"
		}
	}
	if name := strings.TrimSpace(who.Name); name != "" && (containsHan(f.lower, name) || f.builtOn(name)) {
		return "密码不能包含姓名"
	}
	if who.Account != "" && f.builtOn(who.Account) {
		return "密码不能用账号（或账号加数字、符号）"
	}
	for _, c := range who.Communities {
		if containsHan(f.lower, c) || f.builtOn(c) {
			return "密码不能包含小区名称"
		}
	}
	return ""
}

// containsHan reports whether pw contains name when name is written in
// Chinese characters and at least two long: "王建林123" contains "王建林".
func containsHan(lowerPW, name string) bool {
	name = pack(strings.ToLower(name))
	if utf8.RuneCountInString(name) < 2 {
		return false
	}
	for _, r := range name {
		if unicode.Is(unicode.Han, r) {
			return strings.Contains(pack(lowerPW), name)
		}
	}
	return false
}

func digitsOf(s string) string {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	return d
}

// common reports whether the password, or its core when digits or symbols
// were merely added around a word ("Dragon2024!"), is on the common list.
func (f forms) common() bool {
	if IsCommon(f.lower) || IsCommon(f.packed) {
		return true
	}
	return utf8.RuneCountInString(f.core) >= 3 && f.core != f.packed && IsCommon(f.core)
}
