package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"linli/internal/firmware"
)

// UpgradeCommand is the upgrade command on the device's cmd topic.
type UpgradeCommand struct {
	Type       string `json:"type"`
	FirmwareID int    `json:"firmware_id"`
	Model      string `json:"model"`
	Version    string `json:"version"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	URL        string `json:"url"`
}

// downloadChunk is how much one range request asks for.
const downloadChunk = 256 << 10

// maxImage is the largest image the simulated device has room for.
const maxImage = 256 << 20

// Upgrade carries out an upgrade command as a device must: refuse another
// model's firmware and any version not newer than its own, download the
// image in ranges (resuming after a broken connection), check its SHA-256,
// install it, and report each step. It returns why the upgrade failed.
func (d *Device) Upgrade(ctx context.Context, cmd UpgradeCommand) error {
	d.mu.Lock()
	current := d.firmware
	d.mu.Unlock()
	fail := func(msg string) error {
		d.report(ctx, cmd.FirmwareID, "failed", 0, msg)
		d.setUpgrade("failed: " + msg)
		return errors.New(msg)
	}
	if cmd.Model != d.cfg.Model {
		return fail(fmt.Sprintf("型号不符：设备型号 %s，固件型号 %s", d.cfg.Model, cmd.Model))
	}
	if c, ok := firmware.Compare(cmd.Version, current); !ok || c <= 0 {
		return fail(fmt.Sprintf("拒绝降级：当前固件 %s，目标版本 %s", current, cmd.Version))
	}
	if cmd.Size <= 0 || cmd.Size > maxImage {
		return fail(fmt.Sprintf("固件大小 %d 字节超出设备存储空间", cmd.Size))
	}
	d.setUpgrade("downloading")
	d.report(ctx, cmd.FirmwareID, "downloading", 0, "")
	image, err := d.download(ctx, cmd)
	if err != nil {
		return fail("下载失败：" + err.Error())
	}
	sum := sha256.Sum256(image)
	if !strings.EqualFold(hex.EncodeToString(sum[:]), cmd.SHA256) {
		return fail("SHA-256 校验失败：下载的固件与服务器公布的不一致，未安装")
	}
	d.setUpgrade("installing")
	d.report(ctx, cmd.FirmwareID, "installing", 100, "")
	d.mu.Lock()
	d.firmware = cmd.Version
	d.mu.Unlock()
	d.setUpgrade("succeeded " + cmd.Version)
	d.report(ctx, cmd.FirmwareID, "succeeded", 100, "")
	d.logger.Info("firmware upgraded", "device", d.cred.DeviceID, "from", current, "to", cmd.Version)
	return nil
}

// download fetches the image range by range. A broken transfer is resumed
// from the last byte received, up to a few times per range.
func (d *Device) download(ctx context.Context, cmd UpgradeCommand) ([]byte, error) {
	image := bytes.NewBuffer(make([]byte, 0, cmd.Size))
	lastReported := 0
	for failures := 0; int64(image.Len()) < cmd.Size; {
		off := int64(image.Len())
		end := min(off+downloadChunk, cmd.Size) - 1
		n, err := d.fetchRange(ctx, cmd.URL, off, end, image)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if failures++; failures > 5 {
				return nil, err
			}
			d.logger.Info("download interrupted, resuming", "device", d.cred.DeviceID, "offset", off+n, "err", err)
			time.Sleep(time.Duration(failures) * 100 * time.Millisecond)
			continue
		}
		failures = 0
		if p := int(int64(image.Len()) * 100 / cmd.Size); p >= lastReported+10 && p < 100 {
			lastReported = p
			d.report(ctx, cmd.FirmwareID, "downloading", p, "")
		}
	}
	return image.Bytes(), nil
}

// fetchRange appends bytes off..end of the image to buf and says how many
// it got, also when the transfer broke.
func (d *Device) fetchRange(ctx context.Context, url string, off, end int64, buf *bytes.Buffer) (int64, error) {
	res, err := d.send(ctx, http.MethodGet, url, nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", off, end)})
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusPartialContent {
		data, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return 0, problem(http.MethodGet, url, res, data)
	}
	return io.Copy(buf, io.LimitReader(res.Body, end-off+1))
}

// report tells the server how the upgrade goes; a report that cannot be
// delivered is logged (the server times the upgrade out).
func (d *Device) report(ctx context.Context, fwID int, state string, progress int, msg string) {
	body, _ := json.Marshal(map[string]any{"firmware_id": fwID, "state": state, "progress": progress, "message": msg})
	var none struct{}
	if err := d.call(ctx, http.MethodPost, "/device/v1/upgrade", bytes.NewReader(body), &none); err != nil {
		d.logger.Warn("report upgrade", "device", d.cred.DeviceID, "state", state, "err", err)
	}
}

func (d *Device) setUpgrade(s string) {
	d.mu.Lock()
	d.upgrade = s
	d.mu.Unlock()
}

// Flash installs firmware version v on the spot, as a technician with a
// cable would: the server does not learn of it until the device rebinds.
func (d *Device) Flash(v string) {
	d.mu.Lock()
	d.firmware = v
	d.mu.Unlock()
}
