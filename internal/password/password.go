// Package password hashes passwords with argon2id and decides whether a new
// password is acceptable: long enough, not the vendor default, not built on
// the account's own details or the product's name, not one of the common
// passwords and not one of the shapes Chinese users often choose (520/1314,
// keyboard walks, a pinyin name with a birthday).
package password

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// DefaultInitial is the vendor's customary initial password for new staff
// accounts. It is accepted only as an initial password that must be changed.
const DefaultInitial = "123456"

// MinLength is the shortest acceptable new password.
const MinLength = 8

// MaxLength bounds the work hashing does on attacker input.
const MaxLength = 128

// Parameters of argon2id (RFC 9106 second recommended option, lower memory).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// cost is a set of argon2id cost parameters; an encoded hash carries the
// ones it was made with, so Verify reads any hash whatever Hash uses now.
type cost struct {
	time    uint32
	memory  uint32 // KiB
	threads uint8
}

// serverCost is what Hash uses in the server, always.
var serverCost = cost{time: argonTime, memory: argonMemory, threads: argonThreads}

// testCost is set by UseTestCost, which only test binaries may call.
var testCost atomic.Bool

// hashCost returns the parameters Hash uses now.
func hashCost() cost {
	if testCost.Load() {
		return cheapCost
	}
	return serverCost
}

// hashing bounds how many argon2id computations (64 MiB each) run at once,
// so that a burst of logins cannot exhaust memory.
var hashing = make(chan struct{}, max(2, runtime.NumCPU()))

func idKey(pw, salt []byte, t, mem uint32, p uint8, n uint32) []byte {
	hashing <- struct{}{}
	defer func() { <-hashing }()
	return argon2.IDKey(pw, salt, t, mem, p, n)
}

// Hash returns an encoded argon2id hash of pw ("$argon2id$v=19$m=…,t=…,p=…$salt$key").
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	c := hashCost()
	key := idKey([]byte(pw), salt, c.time, c.memory, c.threads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.memory, c.time, c.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrMalformedHash is returned by Verify for a stored hash it cannot read.
var ErrMalformedHash = errors.New("password: malformed hash")

// Verify reports whether pw matches the encoded hash.
func Verify(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformedHash
	}
	var version int
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil {
		return false, ErrMalformedHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformedHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrMalformedHash
	}
	got := idKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

//go:embed common.txt
var commonText string

var (
	commonOnce sync.Once
	commonSet  map[string]struct{}
)

// IsCommon reports whether pw (case-insensitively) is on the list of the most
// common passwords.
func IsCommon(pw string) bool {
	commonOnce.Do(func() {
		commonSet = make(map[string]struct{}, 32000)
		sc := bufio.NewScanner(strings.NewReader(commonText))
		for sc.Scan() {
			if w := strings.TrimSpace(sc.Text()); w != "" {
				commonSet[w] = struct{}{}
			}
		}
	})
	_, ok := commonSet[strings.ToLower(pw)]
	return ok
}

// CommonCount returns how many passwords the common list holds.
func CommonCount() int {
	IsCommon("")
	return len(commonSet)
}
