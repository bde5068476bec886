package password

import (
	"strconv"
	"strings"
)

// The rules below describe the guessable shapes of passwords chosen by
// Chinese users instead of listing every instance: a list of every keyboard
// walk or every surname with every birthday would hold millions of lines.

// lovePieces are the love numbers (520 我爱你, 521, 1314 一生一世) and their
// words; a password made only of them is among the first guesses.
var lovePieces = []string{"5201314", "1314", "520", "521", "woaini", "aini", "iloveyou"}

// loveNumbers reports whether the password is made only of love pieces and
// holds at least one love number: "5201314520", "woaini1314", "521521521".
func (f forms) loveNumbers() bool { return isLove(f.packed) }

func isLove(s string) bool {
	if !strings.ContainsAny(s, "0123456789") {
		return false
	}
	// ok[i]: s[:i] is made of pieces.
	ok := make([]bool, len(s)+1)
	ok[0] = true
	for i := 0; i < len(s); i++ {
		if !ok[i] {
			continue
		}
		for _, p := range lovePieces {
			if strings.HasPrefix(s[i:], p) {
				ok[i+len(p)] = true
			}
		}
	}
	return ok[len(s)]
}

// keyboardRows is a US keyboard, unshifted and shifted, row by row; each
// row starts further right than the one above (the x offsets).
var keyboardRows = []struct {
	plain, shifted string
	offset         float64
}{
	{"`1234567890-=", "~!@#$%^&*()_+", 0},
	{"qwertyuiop[]\\", "QWERTYUIOP{}|", 1.5},
	{"asdfghjkl;'", "ASDFGHJKL:\"", 1.75},
	{"zxcvbnm,./", "ZXCVBNM<>?", 2.25},
}

type keyPos struct {
	row int
	x   float64
}

var keyAt = func() map[rune]keyPos {
	m := make(map[rune]keyPos, 100)
	for row, r := range keyboardRows {
		for i, c := range r.plain {
			m[c] = keyPos{row, r.offset + float64(i)}
		}
		for i, c := range r.shifted {
			m[c] = keyPos{row, r.offset + float64(i)}
		}
	}
	return m
}()

// keypad is the numeric keypad, row by row.
var keypad = []string{"789", "456", "123", "0"}

// neighbours reports whether b is typed with a key next to a's (or the same
// key): 1→q, q→a, a→z, s→d, e→3; for digits also the next number (0→1, 9→8)
// and the key above or below on the numeric keypad (1→4→7, 2→5→8).
func neighbours(a, b rune) bool {
	if isDigit(a) && isDigit(b) && (a-b == 1 || b-a == 1 || keypadNeighbours(a, b)) {
		return true
	}
	pa, ok1 := keyAt[a]
	pb, ok2 := keyAt[b]
	if !ok1 || !ok2 {
		return false
	}
	dx := pa.x - pb.x
	if dx < 0 {
		dx = -dx
	}
	switch pa.row - pb.row {
	case 0:
		return dx <= 1
	case 1, -1:
		return dx <= 0.75
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func keypadNeighbours(a, b rune) bool {
	pos := func(r rune) (int, int) {
		for row, keys := range keypad {
			if col := strings.IndexRune(keys, r); col >= 0 {
				return row, col
			}
		}
		return -9, -9
	}
	ra, ca := pos(a)
	rb, cb := pos(b)
	return ca == cb && (ra-rb == 1 || rb-ra == 1)
}

// keyboardWalk reports whether the password, or its core, is nothing but
// runs of at least three neighbouring keys: "1qaz2wsx", "zaq12wsx",
// "qwerasdf", "0987654321", "88888888", "qwerty2024" (core "qwerty").
func (f forms) keyboardWalk() bool {
	if isWalk(f.lower) {
		return true
	}
	return len(f.core) >= 4 && f.core != f.packed && isWalk(f.core)
}

func isWalk(s string) bool {
	r := []rune(s)
	if len(r) < 3 {
		return false
	}
	run := 1
	for i := 1; i < len(r); i++ {
		if neighbours(r[i-1], r[i]) {
			run++
			continue
		}
		if run < 3 {
			return false
		}
		run = 1
	}
	return run >= 3
}

// splitDigits splits the password into a part of letters a–z and a part of
// digits, in either order ("zhangwei1990", "1990zhangwei").
func (f forms) splitDigits() (letters, digits string, ok bool) {
	s := f.packed
	i := strings.IndexFunc(s, func(r rune) bool { return !isDigit(r) })
	j := strings.IndexFunc(s, isDigit)
	switch {
	case i > 0: // digits first
		letters, digits = s[i:], s[:i]
	case j > 0:
		letters, digits = s[:j], s[j:]
	default:
		return "", "", false
	}
	if strings.IndexFunc(letters, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 ||
		strings.IndexFunc(digits, func(r rune) bool { return !isDigit(r) }) >= 0 {
		return "", "", false
	}
	return letters, digits, true
}

// simpleDigits reports whether d is a date or a number people choose
// without thinking: love numbers, runs of neighbouring keys, repetitions.
func simpleDigits(d string) bool {
	return isDate(d) || (len(d) >= 3 && (isLove(d) || isWalk(d) || isRepeat(d)))
}

// pinyinBirthday reports whether the password is a pinyin name (a common
// surname and up to two given-name syllables) with a date or simple digits
// before or after it: "zhangwei1990", "liuyang19900512", "wang123456",
// "19880808chen", "zhangwei1314".
func (f forms) pinyinBirthday() bool {
	letters, digits, ok := f.splitDigits()
	return ok && isPinyinName(letters) && simpleDigits(digits)
}

// fewLetters reports whether the password is one to three letters with a
// date or simple digits: "a5201314", "zz123456", "abc19900101".
func (f forms) fewLetters() bool {
	letters, digits, ok := f.splitDigits()
	return ok && len(letters) <= 3 && simpleDigits(digits)
}

// repeated reports whether the password is one short piece typed again and
// again, or twice: "110110110", "abcabcabc", "passpass".
func (f forms) repeated() bool { return isRepeat(f.lower) }

func isRepeat(s string) bool {
	for n := 1; n <= len(s)/2; n++ {
		if len(s)%n == 0 && strings.Repeat(s[:n], len(s)/n) == s {
			return true
		}
	}
	return false
}

// isDate reports whether d is a year (1940–2029), a month and day (MMDD), a
// short date (YYMMDD) or a full date (YYYYMMDD).
func isDate(d string) bool {
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	monthDay := func(md string) bool {
		m, day := num(md[:2]), num(md[2:])
		return m >= 1 && m <= 12 && day >= 1 && day <= 31
	}
	switch len(d) {
	case 4:
		y := num(d)
		return (y >= 1940 && y <= 2029) || monthDay(d)
	case 6:
		return monthDay(d[2:])
	case 8:
		y := num(d[:4])
		return y >= 1940 && y <= 2029 && monthDay(d[4:])
	}
	return false
}

// isPinyinName reports whether s is a surname followed by at most two
// given-name syllables ("zhang", "zhangwei", "huangxiaoming").
func isPinyinName(s string) bool {
	for _, sur := range pinyinSurnames {
		if rest, ok := strings.CutPrefix(s, sur); ok && givenSyllables(rest, 2) {
			return true
		}
	}
	return false
}

func givenSyllables(s string, most int) bool {
	if s == "" {
		return true
	}
	if most == 0 {
		return false
	}
	for _, g := range pinyinGiven {
		if rest, ok := strings.CutPrefix(s, g); ok && givenSyllables(rest, most-1) {
			return true
		}
	}
	return false
}
