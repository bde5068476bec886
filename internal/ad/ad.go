// Package ad is 门口机内容管理: four picture slots per screen orientation
// that a community's door and wall stations show, chosen devices or all,
// which reach devices through the whitelist (internal/whitelist) and are
// downloaded with the device's token.
package ad

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"linli/internal/blob"
	"linli/internal/ent"
	entad "linli/internal/ent/ad"
	"linli/internal/ent/adtarget"
	entdevice "linli/internal/ent/device"
	"linli/internal/errs"
	"linli/internal/imaging"
	"linli/internal/store"
	"linli/internal/whitelist"
)

// Service keeps the ad slots of communities.
type Service struct {
	db *store.Store
	wl *whitelist.Service
	// files holds ad pictures, decoded through pictures.
	files    blob.Store
	pictures *imaging.Gate
	devices  Devices
}

// Devices tells which device is behind a device request and where it
// stands, so that it gets only the ads of its screen.
type Devices interface {
	Current(ctx context.Context) *ent.Device
	Location(ctx context.Context, d *ent.Device) (whitelist.Location, error)
}

// NewService returns a Service that stores ad pictures in files, decodes
// them through pictures, records its changes in wl and serves devices.
func NewService(db *store.Store, wl *whitelist.Service, files blob.Store, pictures *imaging.Gate, devices Devices) *Service {
	return &Service{db: db, wl: wl, files: files, pictures: pictures, devices: devices}
}

// Ad slots and picture limits (门口机内容管理).
const (
	AdSlots    = 4
	MaxAdBytes = 10 << 20
)

// adLimits bound an uploaded ad picture before the screen's rule applies:
// what a camera takes, so that 适应屏幕 can shrink a photo.
var adLimits = imaging.Limits{MaxBytes: MaxAdBytes, MinWidth: 64, MinHeight: 64,
	MaxWidth: imaging.CameraSide, MaxHeight: imaging.CameraSide, MaxPixels: imaging.CameraPixels, Label: "广告图片"}

// AdLimit is the largest picture a screen of orientation o shows.
func AdLimit(o string) (w, h int) {
	if o == "portrait" {
		return 800, 1280
	}
	return 1280, 800
}

func checkAdPlace(o string, slot int) error {
	if o != "landscape" && o != "portrait" {
		return errs.Field("orientation", "屏幕方向只能是 landscape（横屏）或 portrait（竖屏）")
	}
	if slot < 1 || slot > AdSlots {
		return errs.Fieldf("slot", "广告位应为 1 到 %d", AdSlots)
	}
	return nil
}

// PutAd replaces the picture in slot of orientation o (替换). A picture
// larger than the screen is refused, or with fit scaled down to fit it.
// The picture is re-encoded as JPEG, which drops its metadata.
//
// Errors: errs.Invalid (not JPEG/PNG by content, too many pixels, larger than
// the screen without fit, truncated), errs.NotFound (community),
// errs.Unavailable (no room to decode the picture in time).
func (s *Service) PutAd(ctx context.Context, cid int, o string, slot int, fileName string, picture io.ReadSeeker, fit bool) (*ent.Ad, error) {
	if err := checkAdPlace(o, slot); err != nil {
		return nil, err
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(picture, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := matchesName(fileName, head[:n]); err != nil {
		return nil, err
	}
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	maxW, maxH := AdLimit(o)
	name := map[string]string{"landscape": "横屏", "portrait": "竖屏"}[o]
	// Both the camera limit and the screen rule are checked from the
	// header, before a pixel is decoded.
	h, err := imaging.Inspect("file", picture, adLimits)
	if err != nil {
		return nil, err
	}
	if (h.Width > maxW || h.Height > maxH) && !fit {
		return nil, errs.Fieldf("file", "图片尺寸 %d×%d 超过%s上限 %d×%d：请缩小后再上传，或选择“适应屏幕”自动缩小", h.Width, h.Height, name, maxW, maxH)
	}
	side := 0 // no scaling
	if h.Width > maxW || h.Height > maxH {
		// Fit the screen, keeping the picture's shape.
		scale := min(float64(maxW)/float64(h.Width), float64(maxH)/float64(h.Height))
		side = int(float64(max(h.Width, h.Height)) * scale)
	}
	jpg, err := s.pictures.JPEG(ctx, "file", picture, h, adLimits, side, 88)
	if err != nil {
		return nil, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(jpg))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(jpg)
	hexSum := hex.EncodeToString(sum[:])
	key := fmt.Sprintf(adPrefix+"%d/%s-%d-%s.jpg", cid, o, slot, hexSum[:16])
	if err := s.files.Put(ctx, key, jpg); err != nil {
		return nil, err
	}
	var out *ent.Ad
	var oldKey string
	err = s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		cur, err := tx.Ad.Query().Where(entad.CommunityID(cid), entad.OrientationEQ(entad.Orientation(o)), entad.Slot(slot)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			out, err = tx.Ad.Create().SetCommunityID(cid).SetOrientation(entad.Orientation(o)).SetSlot(slot).SetImageKey(key).
				SetSha256(hexSum).SetSize(len(jpg)).SetWidth(cfg.Width).SetHeight(cfg.Height).Save(ctx)
		case err == nil:
			oldKey = cur.ImageKey
			out, err = tx.Ad.UpdateOne(cur).SetImageKey(key).SetSha256(hexSum).SetSize(len(jpg)).
				SetWidth(cfg.Width).SetHeight(cfg.Height).SetUpdatedAt(s.wl.Now()).Save(ctx)
		}
		if err != nil {
			return nil, err
		}
		return []string{whitelist.AdKey(o, slot)}, nil
	})
	if err != nil {
		// The file stays: the key is named by content, so the slot may be
		// showing this very file already. If no ad uses it, the orphan
		// sweep removes it.
		return nil, err
	}
	if oldKey != "" && oldKey != key {
		_ = s.files.Delete(ctx, oldKey)
	}
	return out, nil
}

// matchesName refuses a picture whose name says one format and whose
// content is another (a PNG named .jpg): the content decides what a file
// is, and a file that lies about it is not taken.
func matchesName(name string, data []byte) error {
	ct := http.DetectContentType(data)
	ext := strings.ToLower(filepath.Ext(name))
	want := map[string]string{".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}[ext]
	if want == "" || ct == want {
		return nil
	}
	what := map[string]string{"image/jpeg": "JPEG 图片", "image/png": "PNG 图片"}[ct]
	if what == "" {
		return errs.Field("file", "广告图片不是 JPEG 或 PNG 图片（按文件内容判断，与扩展名无关）")
	}
	return errs.Fieldf("file", "文件名是 %s，内容却是%s：请确认文件后改正扩展名再上传", ext, what)
}

// DeleteAd empties slot of orientation o (删除).
func (s *Service) DeleteAd(ctx context.Context, cid int, o string, slot int) error {
	if err := checkAdPlace(o, slot); err != nil {
		return err
	}
	a, err := s.db.Ad.Query().Where(entad.CommunityID(cid), entad.OrientationEQ(entad.Orientation(o)), entad.Slot(slot)).Only(ctx)
	if err != nil {
		return store.Map(err, "广告")
	}
	err = s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		return []string{whitelist.AdKey(o, slot)}, tx.Ad.DeleteOneID(a.ID).Exec(ctx)
	})
	if err == nil {
		_ = s.files.Delete(ctx, a.ImageKey)
	}
	return err
}

// SetAdTargets chooses the door stations that show the ads of orientation
// o; none means every one of that orientation.
//
// Errors: errs.Invalid (a device that is not a door or wall station of that
// orientation in the community).
func (s *Service) SetAdTargets(ctx context.Context, cid int, o string, deviceIDs []int) error {
	if err := checkAdPlace(o, 1); err != nil {
		return err
	}
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return err
	}
	slices.Sort(deviceIDs)
	deviceIDs = slices.Compact(deviceIDs)
	ok, err := s.db.Device.Query().Where(entdevice.CommunityID(cid), entdevice.IDIn(deviceIDs...),
		entdevice.KindIn(entdevice.KindDoor, entdevice.KindWall), entdevice.OrientationEQ(entdevice.Orientation(o))).Count(ctx)
	if err != nil {
		return err
	}
	if ok != len(deviceIDs) {
		return errs.Fieldf("device_ids", "只能选择本小区%s的门口机或围墙机", map[string]string{"landscape": "横屏", "portrait": "竖屏"}[o])
	}
	return s.wl.Change(ctx, cid, func(tx *ent.Tx) ([]string, error) {
		if _, err := tx.AdTarget.Delete().Where(adtarget.CommunityID(cid), adtarget.OrientationEQ(adtarget.Orientation(o))).Exec(ctx); err != nil {
			return nil, err
		}
		for _, id := range deviceIDs {
			if err := tx.AdTarget.Create().SetCommunityID(cid).SetOrientation(adtarget.Orientation(o)).SetDeviceID(id).Exec(ctx); err != nil {
				return nil, err
			}
		}
		keys := make([]string, AdSlots)
		for i := range AdSlots {
			keys[i] = whitelist.AdKey(o, i+1)
		}
		return keys, nil
	})
}

// AdImage returns the picture of ad id for a device at loc, which must show it.
//
// Errors: errs.NotFound.
func (s *Service) AdImage(ctx context.Context, loc whitelist.Location, id int) ([]byte, time.Time, error) {
	entries, err := entries(ctx, s.db, loc)
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, e := range entries {
		if e.URL == fmt.Sprintf("/device/v1/ads/%d", id) {
			a, err := s.db.Ad.Get(ctx, id)
			if err != nil {
				return nil, time.Time{}, store.Map(err, "广告")
			}
			data, err := s.files.Get(ctx, a.ImageKey)
			return data, a.UpdatedAt, err
		}
	}
	return nil, time.Time{}, errs.New(errs.NotFound, "广告不存在")
}

// AdPicture returns the picture in slot of orientation o of community cid,
// for the console.
func (s *Service) AdPicture(ctx context.Context, cid int, o string, slot int) ([]byte, error) {
	if err := checkAdPlace(o, slot); err != nil {
		return nil, err
	}
	a, err := s.db.Ad.Query().Where(entad.CommunityID(cid), entad.OrientationEQ(entad.Orientation(o)), entad.Slot(slot)).Only(ctx)
	if err != nil {
		return nil, store.Map(err, "广告")
	}
	return s.files.Get(ctx, a.ImageKey)
}
