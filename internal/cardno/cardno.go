// Package cardno normalises access-card numbers (门禁卡号). Cards are stored
// as upper-case hexadecimal of 6 to 20 digits, e.g. 09E98CF6. Readers and
// people often give the decimal form (W26/W34 readers, numbers printed on
// cards); decimal is converted only when the caller says the input is
// decimal, because "12345678" is valid in both.
package cardno

import (
	"errors"
	"math/big"
	"strings"
)

// Format says how a number was written.
type Format string

// Formats a card number can be given in.
const (
	Hex     Format = "hex"
	Decimal Format = "decimal"
)

// Errors of Parse, as Chinese sentences.
var (
	ErrEmpty   = errors.New("卡号不能为空")
	ErrHex     = errors.New("卡号应为 6 到 20 位十六进制数字（0-9、A-F），如 09E98CF6")
	ErrDecimal = errors.New("十进制卡号只能包含数字，且换算为十六进制后为 6 到 20 位")
	ErrFormat  = errors.New("卡号格式只能是 hex（十六进制）或 decimal（十进制）")
)

// Parse returns the canonical form of s written in format f (empty: hex).
func Parse(s string, f Format) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, " ", "")
	s = strings.ReplaceAll(s, "-", "")
	s = strings.ReplaceAll(s, ":", "")
	if s == "" {
		return "", ErrEmpty
	}
	switch f {
	case "", Hex:
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		if len(s) < 6 || len(s) > 20 {
			return "", ErrHex
		}
		for i := range len(s) {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return "", ErrHex
			}
		}
		return strings.ToUpper(s), nil
	case Decimal:
		if len(s) > 25 {
			return "", ErrDecimal
		}
		for i := range len(s) {
			if s[i] < '0' || s[i] > '9' {
				return "", ErrDecimal
			}
		}
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return "", ErrDecimal
		}
		h := strings.ToUpper(n.Text(16))
		if len(h)%2 == 1 {
			h = "0" + h // whole bytes, as readers print them
		}
		for len(h) < 8 {
			h = "00" + h
		}
		if len(h) > 20 {
			return "", ErrDecimal
		}
		return h, nil
	}
	return "", ErrFormat
}
