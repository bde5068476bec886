// Package phone parses mainland China mobile numbers, which are residents'
// app accounts: 11 digits starting with 1[3-9], optionally written with +86,
// 0086, spaces or dashes.
package phone

import (
	"errors"
	"strings"
)

// ErrInvalid is returned for anything that is not a mainland mobile number.
var ErrInvalid = errors.New("手机号码应为 11 位中国大陆手机号，如 13800138000")

// Parse returns the 11-digit canonical form of s.
func Parse(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
	switch {
	case strings.HasPrefix(s, "+86"):
		s = s[3:]
	case strings.HasPrefix(s, "0086"):
		s = s[4:]
	}
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return "", ErrInvalid
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrInvalid
		}
	}
	return s, nil
}

// Mask hides the middle four digits: 138****8000.
func Mask(s string) string {
	if len(s) != 11 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + "****" + s[7:]
}
