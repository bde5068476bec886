// Package validate holds the small input rules shared by every domain. Each
// function returns an errs.Invalid error that names the field in Chinese, or
// nil.
package validate

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"linli/internal/errs"
)

// Text trims v and checks that it is between min and max characters and
// that every character is one people see (Visible). label is the Chinese
// field name shown to people.
func Text(field, label, v string, min, max int) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		return v, errs.Fieldf(field, "%s不能为空", label)
	case n < min:
		return v, errs.Fieldf(field, "%s至少需要 %d 个字符", label, min)
	case n > max:
		return v, errs.Fieldf(field, "%s不能超过 %d 个字符", label, max)
	}
	return v, Visible(field, label, v)
}

// Visible checks that v is valid UTF-8 and has neither control characters
// nor invisible format characters (Unicode category Cf): the bidirectional
// controls that make a name read backwards in a list (U+202E), zero-width
// spaces that make two names look the same, the byte order mark. The
// zero-width joiner (U+200D) is allowed: it joins the parts of an emoji.
func Visible(field, label, v string) error {
	return visible(field, label, v, unicode.IsControl)
}

// VisibleLines is Visible for text of several lines (a notice's content):
// line breaks and tabs are allowed.
func VisibleLines(field, label, v string) error {
	return visible(field, label, v, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	})
}

func visible(field, label, v string, control func(rune) bool) error {
	switch {
	case !utf8.ValidString(v):
		return errs.Fieldf(field, "%s含有无法识别的字符（不是有效的 UTF-8 编码）", label)
	case strings.IndexFunc(v, control) >= 0:
		return errs.Fieldf(field, "%s含有不可见的控制字符", label)
	case strings.IndexFunc(v, invisible) >= 0:
		return errs.Fieldf(field, "%s含有不可见的格式字符（如零宽空格、文字方向控制符），请删除后重试", label)
	}
	return nil
}

// invisible reports a format character other than the zero-width joiner.
func invisible(r rune) bool {
	return r != '\u200d' && unicode.Is(unicode.Cf, r)
}

// Range checks that v is between min and max inclusive.
func Range(field, label string, v, min, max int) error {
	if v < min || v > max {
		return errs.Fieldf(field, "%s必须在 %d 到 %d 之间", label, min, max)
	}
	return nil
}

var phoneRE = regexp.MustCompile(`^\+?[0-9][0-9\- ]{4,19}$`)

// Phone checks an optional telephone number (mobile or landline).
func Phone(field, label, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return v, nil
	}
	if !phoneRE.MatchString(v) {
		return v, errs.Fieldf(field, "%s格式不正确，只能包含数字、空格和“-”，5 到 20 位", label)
	}
	return v, nil
}

// Email checks an optional e-mail address.
func Email(field, label, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return v, nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndexByte(v, '@'):], ".") {
		return v, errs.Fieldf(field, "%s格式不正确", label)
	}
	return v, nil
}

// First returns the first non-nil error.
func First(es ...error) error {
	for _, e := range es {
		if e != nil {
			return e
		}
	}
	return nil
}
