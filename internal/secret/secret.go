// Package secret seals personal data at rest (ID numbers) with AES-256-GCM.
// The key comes from configuration (LINLI_DATA_KEY, base64) or from the file
// secret.key in the data directory, which is generated on first start.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the generated key file in the data directory.
const KeyFile = "secret.key"

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
	// mac signs values that leave the server (device cookies); its key is
	// derived from the data key, so it needs no configuration of its own.
	macKey []byte
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	derive := hmac.New(sha256.New, key)
	derive.Write([]byte("linli signing key v1"))
	return &Box{aead: aead, macKey: derive.Sum(nil)}, nil
}

// Load returns the Box for configured (base64, may be empty) or, when it is
// empty, for the key file in dataDir, creating that file with a random key
// (mode 0600) if it does not exist.
func Load(configured, dataDir string) (*Box, error) {
	if configured != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(configured))
		if err != nil {
			return nil, fmt.Errorf("secret: LINLI_DATA_KEY is not base64: %w", err)
		}
		return New(key)
	}
	path := filepath.Join(dataDir, KeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(key) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("secret: create key file: %w", err)
		}
		if _, err := f.WriteString(enc); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return New(key)
	}
	if err != nil {
		return nil, fmt.Errorf("secret: read key file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("secret: %s is not base64: %w", path, err)
	}
	return New(key)
}

// Seal encrypts plaintext; the result holds its own random nonce.
func (b *Box) Seal(plaintext string) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b.aead.Seal(nonce, nonce, []byte(plaintext), nil)
}

// ErrOpen is returned for data that was not sealed with this key or was altered.
var ErrOpen = errors.New("secret: cannot open sealed value (wrong key or damaged data)")

// Open decrypts what Seal produced.
func (b *Box) Open(sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return "", ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", ErrOpen
	}
	return string(out), nil
}

// Sign returns value with a signature appended ("value.signature"), for a
// value that a client keeps and gives back, such as a device cookie.
func (b *Box) Sign(value string) string {
	return value + "." + b.signature(value)
}

// Verify returns the value of signed when its signature is this Box's, and
// false for anything else.
func (b *Box) Verify(signed string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i <= 0 {
		return "", false
	}
	value, sig := signed[:i], signed[i+1:]
	if !hmac.Equal([]byte(sig), []byte(b.signature(value))) {
		return "", false
	}
	return value, true
}

func (b *Box) signature(value string) string {
	m := hmac.New(sha256.New, b.macKey)
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
