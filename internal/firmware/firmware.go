// Package firmware keeps the firmware images the platform operator uploads:
// one file per model and version (stored under a random key, never one built
// from the model or version), its SHA-256, and the rule that a model's
// versions only increase. Devices download images by HTTP range requests;
// starting and following upgrades is the device package's work.
package firmware

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/blob"
	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	entfirmware "linli/internal/ent/firmware"
	"linli/internal/errs"
	"linli/internal/store"
	"linli/internal/validate"
)

// MaxBytes is the largest firmware image accepted.
const MaxBytes = 256 << 20

// StaleAfter is how long an upgrade may go without a progress report before
// it counts as failed (the device was switched off, or lost its network).
const StaleAfter = 30 * time.Minute

// Service stores firmware images.
type Service struct {
	db     *store.Store
	files  blob.Store
	logger *slog.Logger
}

// NewService returns a Service.
func NewService(db *store.Store, files blob.Store, logger *slog.Logger) *Service {
	return &Service{db: db, files: files, logger: logger}
}

var (
	versionRE = regexp.MustCompile(`^[Vv]?\d{1,6}(\.\d{1,6}){0,3}$`)
	modelRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// ParseVersion returns the numbers of a version such as 2.1.0 or V2.1.
func ParseVersion(v string) ([]int, bool) {
	v = strings.TrimSpace(v)
	if !versionRE.MatchString(v) {
		return nil, false
	}
	parts := strings.Split(strings.TrimLeft(v, "Vv"), ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		out[i], _ = strconv.Atoi(p)
	}
	return out, true
}

// Compare orders two versions: -1 when a is older than b, 0 when they are the
// same (2.1 equals 2.1.0), +1 when a is newer. ok is false when either is
// not a version of the form 1.2.3.
func Compare(a, b string) (c int, ok bool) {
	va, oka := ParseVersion(a)
	vb, okb := ParseVersion(b)
	if !oka || !okb {
		return 0, false
	}
	for i := range max(len(va), len(vb)) {
		var x, y int
		if i < len(va) {
			x = va[i]
		}
		if i < len(vb) {
			y = vb[i]
		}
		if x != y {
			if x < y {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

// UploadInput is a new firmware image.
type UploadInput struct {
	Model, Version, FileName, Notes string
	File                            io.Reader
}

// Upload stores a firmware image and its SHA-256. The version must be higher
// than every version already uploaded for the model.
//
// Errors: errs.Invalid (model, version, empty or too large file),
// errs.Conflict (not higher than the newest version).
func (s *Service) Upload(ctx context.Context, in UploadInput, by string) (*ent.Firmware, error) {
	in.Model, in.Version = strings.TrimSpace(in.Model), strings.TrimSpace(in.Version)
	if !modelRE.MatchString(in.Model) {
		return nil, errs.Field("model", "型号应为 1 到 64 位字母、数字或 _ . -，与设备绑定时上报的型号一致")
	}
	if _, ok := ParseVersion(in.Version); !ok {
		return nil, errs.Field("version", "版本号格式应为 1.2.3（最多四段数字，可加前缀 V）")
	}
	if len([]rune(in.Notes)) > 500 {
		return nil, errs.Field("notes", "说明最多 500 个字")
	}
	if err := validate.VisibleLines("notes", "说明", in.Notes); err != nil {
		return nil, err
	}
	if newest, err := s.Newest(ctx, in.Model); err != nil {
		return nil, err
	} else if newest != nil {
		if c, _ := Compare(in.Version, newest.Version); c <= 0 {
			return nil, errs.Fieldf("version", "型号 %s 已有版本 %s，新版本必须更高", in.Model, newest.Version)
		}
	}
	// The key is random, never built from the model or version: those are
	// the operator's text, and two that differ only in case ("ABC", "abc")
	// once shared one file. Rows stored before keep their own keys.
	key := keyPrefix + randomHex(16) + ".bin"
	h := sha256.New()
	n, err := s.files.PutReader(ctx, key, io.TeeReader(io.LimitReader(in.File, MaxBytes+1), h))
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxBytes {
		_ = s.files.Delete(ctx, key)
		if n == 0 {
			return nil, errs.Field("file", "固件文件是空的")
		}
		return nil, errs.Field("file", "固件文件不能超过 256 MB")
	}
	f, err := s.db.Firmware.Create().SetModel(in.Model).SetVersion(in.Version).SetFileName(baseName(in.FileName)).
		SetSize(n).SetSha256(hex.EncodeToString(h.Sum(nil))).SetBlobKey(key).SetNotes(strings.TrimSpace(in.Notes)).
		SetUploadedBy(by).Save(ctx)
	if err != nil {
		_ = s.files.Delete(ctx, key)
		if ent.IsConstraintError(err) {
			return nil, errs.Fieldf("version", "型号 %s 的版本 %s 已上传", in.Model, in.Version)
		}
		return nil, err
	}
	s.logger.InfoContext(ctx, "firmware uploaded", "model", f.Model, "version", f.Version, "size", f.Size, "sha256", f.Sha256)
	return f, nil
}

func baseName(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

// Newest returns the highest version uploaded for model, or nil.
func (s *Service) Newest(ctx context.Context, model string) (*ent.Firmware, error) {
	all, err := s.db.Firmware.Query().Where(entfirmware.Model(model)).All(ctx)
	if err != nil {
		return nil, err
	}
	var newest *ent.Firmware
	for _, f := range all {
		if c, _ := Compare(f.Version, versionOf(newest)); newest == nil || c > 0 {
			newest = f
		}
	}
	return newest, nil
}

func versionOf(f *ent.Firmware) string {
	if f == nil {
		return ""
	}
	return f.Version
}

// List returns the firmware of model (every model when empty), newest first.
func (s *Service) List(ctx context.Context, model string) ([]*ent.Firmware, error) {
	q := s.db.Firmware.Query().Order(ent.Asc(entfirmware.FieldModel), ent.Desc(entfirmware.FieldCreatedAt), ent.Desc(entfirmware.FieldID))
	if model != "" {
		q.Where(entfirmware.Model(model))
	}
	return q.All(ctx)
}

// Get returns firmware id.
func (s *Service) Get(ctx context.Context, id int) (*ent.Firmware, error) {
	f, err := s.db.Firmware.Get(ctx, id)
	return f, store.Map(err, "固件")
}

// Open opens the image of f for reading.
func (s *Service) Open(ctx context.Context, f *ent.Firmware) (blob.File, error) {
	file, err := s.files.Open(ctx, f.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, errs.New(errs.NotFound, "固件文件不存在")
	}
	return file, err
}

// Delete removes firmware id and its file. Firmware that devices are being
// upgraded to stays until they finish.
//
// Errors: errs.NotFound, errs.Conflict (an upgrade to it is under way).
func (s *Service) Delete(ctx context.Context, id int) error {
	f, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	busy, err := s.db.Device.Query().Where(entdevice.UpgradeFirmwareID(id),
		entdevice.UpgradeStateIn(entdevice.UpgradeStatePending, entdevice.UpgradeStateDownloading, entdevice.UpgradeStateInstalling),
		entdevice.UpgradeUpdatedAtGT(time.Now().Add(-StaleAfter))).
		Count(actor.AsSystem(ctx))
	if err != nil {
		return err
	}
	if busy > 0 {
		return errs.Newf(errs.Conflict, "有 %d 台设备正在升级到该固件，请等升级结束后再删除", busy)
	}
	if err := s.db.Firmware.DeleteOneID(id).Exec(ctx); err != nil {
		return store.Map(err, "固件")
	}
	// Files stored under the old model/version keys may be shared by rows
	// whose models differ only in case; the file goes with the last of them.
	shared, err := s.db.Firmware.Query().Where(entfirmware.BlobKey(f.BlobKey)).Exist(ctx)
	if err != nil || shared {
		return err
	}
	return s.files.Delete(ctx, f.BlobKey)
}

// keyPrefix starts the key of every stored firmware image.
const keyPrefix = "firmware/"

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
