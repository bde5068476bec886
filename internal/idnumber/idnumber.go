// Package idnumber checks and masks mainland China resident ID numbers
// (公民身份号码, GB 11643-1999): 6 digits of region, 8 of birth date, 3 of
// sequence and an ISO 7064 MOD 11-2 check character (0–9 or X).
package idnumber

import (
	"errors"
	"strings"
	"time"
)

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// Reasons Parse gives for a wrong number; each is a Chinese sentence.
var (
	ErrLength    = errors.New("身份证号应为 18 位")
	ErrDigits    = errors.New("身份证号前 17 位应为数字，最后一位为数字或 X")
	ErrBirthDate = errors.New("身份证号中的出生日期不正确")
	ErrRegion    = errors.New("身份证号开头的地区代码不正确")
	ErrCheck     = errors.New("身份证号校验位不正确，请核对是否输错")
)

// provinces are the first two digits in use (GB/T 2260).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true, "91": true,
}

// Parse normalises s (trims spaces, upper-cases x) and checks it. It returns
// the canonical 18-character number.
func Parse(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return "", ErrLength
	}
	sum := 0
	for i := range 17 {
		c := s[i]
		if c < '0' || c > '9' {
			return "", ErrDigits
		}
		sum += int(c-'0') * weights[i]
	}
	last := s[17]
	if !(last >= '0' && last <= '9' || last == 'X') {
		return "", ErrDigits
	}
	if !provinces[s[:2]] {
		return "", ErrRegion
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 || birth.After(time.Now()) {
		return "", ErrBirthDate
	}
	if checkChars[sum%11] != last {
		return "", ErrCheck
	}
	return s, nil
}

// Mask shows the first six and last four characters: 110101********1234.
// Anything that is not 18 characters is masked completely.
func Mask(s string) string {
	if len(s) != 18 {
		return strings.Repeat("*", len(s))
	}
	return s[:6] + strings.Repeat("*", 8) + s[14:]
}
