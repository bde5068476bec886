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

// Text trims v and checks that it is between min and max characters and has no
// control characters. label is the Chinese field name shown to people.
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
	case !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0:
		return v, errs.Fieldf(field, "%s含有不可见的控制字符", label)
	}
	return v, nil
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
