package device

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/errs"
	"linli/internal/firmware"
	"linli/internal/store"
)

// Upgrade is how the last firmware upgrade of a device went, for 设备列表.
type Upgrade struct {
	FirmwareID int       `json:"firmware_id"`
	Version    string    `json:"version" doc:"目标版本"`
	State      string    `json:"state" enum:"pending,downloading,installing,succeeded,failed" doc:"等待设备响应、下载中、安装中、升级成功、升级失败"`
	Progress   int       `json:"progress" doc:"下载进度 0–100"`
	Message    string    `json:"message,omitempty" doc:"失败原因等"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// upgradeOf returns the upgrade state of d, or nil when none was started.
// An upgrade that has not reported for firmware.StaleAfter counts as failed.
func (s *Service) upgradeOf(d *ent.Device) *Upgrade {
	if d.UpgradeState == nil || d.UpgradeFirmwareID == nil {
		return nil
	}
	u := &Upgrade{FirmwareID: *d.UpgradeFirmwareID, Version: d.UpgradeVersion, State: string(*d.UpgradeState),
		Progress: d.UpgradeProgress, Message: d.UpgradeMessage}
	if d.UpgradeUpdatedAt != nil {
		u.UpdatedAt = *d.UpgradeUpdatedAt
	}
	if inProgress(*d.UpgradeState) && !s.upgrading(d) {
		u.State, u.Message = "failed", "设备超过 30 分钟没有回报升级进度"
	}
	return u
}

func inProgress(st entdevice.UpgradeState) bool {
	return st == entdevice.UpgradeStatePending || st == entdevice.UpgradeStateDownloading || st == entdevice.UpgradeStateInstalling
}

// upgrading reports whether d has an upgrade under way that reported within
// firmware.StaleAfter; a silent one counts as failed.
func (s *Service) upgrading(d *ent.Device) bool {
	return d.UpgradeState != nil && inProgress(*d.UpgradeState) && d.UpgradeUpdatedAt != nil &&
		s.now().Sub(*d.UpgradeUpdatedAt) <= firmware.StaleAfter
}

// UpgradeCommand is the MQTT command that starts an upgrade on a device.
type UpgradeCommand struct {
	Type       string `json:"type" doc:"upgrade"`
	FirmwareID int    `json:"firmware_id"`
	Model      string `json:"model"`
	Version    string `json:"version"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	URL        string `json:"url" doc:"下载路径，相对于服务器地址，带设备令牌请求"`
}

// StartUpgrade sends firmware fw to the devices ids of community cid. Every
// device must be bound there, online, of the firmware's model, on an older
// version and not already upgrading; otherwise nothing is sent and the
// error names the first device that cannot be upgraded.
//
// Errors: errs.NotFound (device or firmware), errs.Invalid, errs.Conflict.
func (s *Service) StartUpgrade(ctx context.Context, fws *firmware.Service, cid int, ids []int, fwID int) error {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return err
	}
	if len(ids) == 0 {
		return errs.Field("device_ids", "请选择要升级的设备")
	}
	if s.broker == nil {
		return errs.New(errs.Conflict, "设备消息通道（MQTT）未启用，无法下发升级")
	}
	fw, err := fws.Get(ctx, fwID)
	if err != nil {
		return err
	}
	devs, err := s.db.Device.Query().Where(entdevice.CommunityID(cid), entdevice.IDIn(ids...)).All(ctx)
	if err != nil {
		return err
	}
	if len(devs) != len(slices.Compact(slices.Sorted(slices.Values(ids)))) {
		return errs.New(errs.NotFound, "所选设备不存在或已解绑，请刷新设备列表")
	}
	for _, d := range devs {
		name := d.Serial
		switch {
		case !d.Online:
			return errs.Newf(errs.Conflict, "设备 %s 离线，只能升级在线的设备", name)
		case d.Model != fw.Model:
			return errs.Newf(errs.Invalid, "设备 %s 的型号是 %s，不能使用型号 %s 的固件", name, d.Model, fw.Model)
		case s.upgrading(d):
			return errs.Newf(errs.Conflict, "设备 %s 正在升级到 %s，请等待结果", name, d.UpgradeVersion)
		}
		if c, ok := firmware.Compare(fw.Version, d.Firmware); ok && c <= 0 {
			return errs.Newf(errs.Conflict, "设备 %s 的固件已是 %s，不能升级到 %s（不允许降级或重复升级）", name, d.Firmware, fw.Version)
		}
	}
	now := s.now()
	if err := s.db.Device.Update().Where(entdevice.IDIn(ids...)).SetUpgradeFirmwareID(fw.ID).SetUpgradeVersion(fw.Version).
		SetUpgradeState(entdevice.UpgradeStatePending).SetUpgradeProgress(0).SetUpgradeMessage("").SetUpgradeUpdatedAt(now).
		Exec(ctx); err != nil {
		return err
	}
	payload, _ := json.Marshal(UpgradeCommand{Type: "upgrade", FirmwareID: fw.ID, Model: fw.Model, Version: fw.Version,
		Size: fw.Size, SHA256: fw.Sha256, URL: fmt.Sprintf("/device/v1/firmware/%d", fw.ID)})
	for _, d := range devs {
		if err := s.broker.Publish(CmdTopic(cid, d.ID), payload, 1); err != nil {
			s.logger.WarnContext(ctx, "send upgrade", "device", d.ID, "err", err)
			s.failUpgrade(ctx, d.ID, "升级指令发送失败")
		}
	}
	s.logger.InfoContext(ctx, "firmware upgrade started", "community", cid, "devices", len(devs), "model", fw.Model, "version", fw.Version)
	return nil
}

func (s *Service) failUpgrade(ctx context.Context, id int, msg string) {
	err := s.db.Device.UpdateOneID(id).SetUpgradeState(entdevice.UpgradeStateFailed).SetUpgradeMessage(msg).
		SetUpgradeUpdatedAt(s.now()).Exec(actor.AsSystem(ctx))
	if err != nil {
		s.logger.ErrorContext(ctx, "record upgrade failure", "device", id, "err", err)
	}
}

// Progress is what a device reports while it upgrades.
type Progress struct {
	FirmwareID int    `json:"firmware_id" minimum:"1" doc:"固件（正在升级的固件编号）"`
	State      string `json:"state" enum:"downloading,installing,succeeded,failed" doc:"downloading 下载中；installing 安装中；succeeded 成功；failed 失败"`
	Progress   int    `json:"progress,omitempty" minimum:"0" maximum:"100" doc:"下载进度 0–100"`
	Message    string `json:"message,omitempty" maxLength:"200" doc:"失败原因，如 SHA-256 校验失败、拒绝降级"`
}

// ReportUpgrade records device d's progress with the upgrade it was sent.
// On success the device's firmware version becomes the new one.
//
// Errors: errs.Conflict (no upgrade to that firmware was started).
func (s *Service) ReportUpgrade(ctx context.Context, d *ent.Device, p Progress) error {
	if d.UpgradeFirmwareID == nil || *d.UpgradeFirmwareID != p.FirmwareID || d.UpgradeState == nil {
		return errs.New(errs.Conflict, "没有向该设备下发这个固件的升级")
	}
	if !inProgress(*d.UpgradeState) {
		return errs.Newf(errs.Conflict, "这次升级已经结束（%s）", *d.UpgradeState)
	}
	u := s.db.Device.UpdateOneID(d.ID).SetUpgradeState(entdevice.UpgradeState(p.State)).
		SetUpgradeMessage(strings.TrimSpace(p.Message)).SetUpgradeUpdatedAt(s.now())
	switch p.State {
	case "downloading":
		u.SetUpgradeProgress(p.Progress)
	case "installing":
		u.SetUpgradeProgress(100)
	case "succeeded":
		u.SetUpgradeProgress(100).SetFirmware(d.UpgradeVersion)
	}
	if err := u.Exec(actor.AsSystem(ctx)); err != nil {
		return err
	}
	if p.State == "succeeded" || p.State == "failed" {
		s.logger.InfoContext(ctx, "firmware upgrade finished", "device", d.ID, "version", d.UpgradeVersion, "state", p.State, "message", p.Message)
	}
	return nil
}

// Firmware returns firmware id for device d to download: only firmware of
// the device's model is offered.
func (s *Service) Firmware(ctx context.Context, fws *firmware.Service, d *ent.Device, id int) (*ent.Firmware, error) {
	fw, err := fws.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if fw.Model != d.Model {
		return nil, errs.New(errs.NotFound, "固件不存在")
	}
	return fw, nil
}
