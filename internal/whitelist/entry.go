package whitelist

import (
	"context"
	"fmt"
	"time"
)

// Location is where a device stands: a unit door station has UnitID; an
// indoor monitor has its RoomID and the room's UnitID; wall and management
// stations (and anything community-wide) have 0.
type Location struct {
	CommunityID int
	UnitID      int
	RoomID      int
	// The device itself, for ads: door and wall stations (Screen) show the
	// ads of their orientation when chosen (or when none are chosen).
	DeviceID    int
	Orientation string
	Screen      bool
}

// Entry is one whitelist entry as a device stores it.
type Entry struct {
	Key        string     `json:"key" doc:"条目标识：card:<卡号>、face:<业主编号>、notice:<通知编号>、ad:<方向>:<广告位> 或 pass:<通行证编号>"`
	Kind       string     `json:"kind" enum:"card,face,notice,ad,pass"`
	Card       string     `json:"card,omitempty" doc:"卡号（十六进制大写）"`
	Mode       string     `json:"mode,omitempty" enum:"ic,id_card," doc:"ic 模式或身份证"`
	ResidentID int        `json:"resident_id,omitempty"`
	Title      string     `json:"title,omitempty" doc:"通知标题"`
	Content    string     `json:"content,omitempty" doc:"通知内容"`
	Slot       int        `json:"slot,omitempty" doc:"广告位 1–4"`
	URL        string     `json:"url,omitempty" doc:"广告图片的下载路径（带设备令牌请求）"`
	SHA256     string     `json:"sha256,omitempty" doc:"广告图片的 SHA-256"`
	Width      int        `json:"width,omitempty"`
	Height     int        `json:"height,omitempty"`
	ValidFrom  *time.Time `json:"valid_from,omitempty" doc:"人脸有效期或通知展示时间的开始"`
	ValidUntil *time.Time `json:"valid_until,omitempty" doc:"为空表示永久有效；设备到期后自行失效（通知到期后不再展示）"`

	// The fields of a visitor pass (kind pass).
	PassEntry
}

// PassEntry is what a whitelist entry of kind pass (访客通行) adds: the
// device opens for the QR text or the PIN while valid_from ≤ now <
// valid_until and, when max_uses is not 0, fewer than max_uses uses are
// known (the server's count in uses, plus the device's own uses it has
// not yet seen counted).
type PassEntry struct {
	PassID  int    `json:"pass_id,omitempty" doc:"通行证编号（开锁事件的 pass_id）"`
	PIN     string `json:"pin,omitempty" doc:"通行证的 6 位开门密码"`
	QR      string `json:"qr,omitempty" doc:"通行证二维码的内容"`
	MaxUses int    `json:"max_uses,omitempty" doc:"可用次数；不出现或为 0 表示不限次数"`
	Uses    int    `json:"uses,omitempty" doc:"服务器已记录的使用次数（各设备合计）"`
	Visitor string `json:"visitor,omitempty" doc:"访客姓名（显示用）"`
}

// A Source is one feature's entries on whitelists.
type Source interface {
	// Prefix starts the keys of the source's entries ("card:").
	Prefix() string
	// Entries returns the source's entries that a device at loc holds at
	// now: all of them when keys is nil, otherwise those among keys (each
	// starting with Prefix). A key without an entry is one to delete.
	Entries(ctx context.Context, loc Location, now time.Time, keys []string) ([]Entry, error)
}

// Keys of whitelist entries.

// CardKey is the key of the card numbered number.
func CardKey(number string) string { return "card:" + number }

// FaceKey is the key of resident residentID's face.
func FaceKey(residentID int) string { return fmt.Sprintf("face:%d", residentID) }

// NoticeKey is the key of notice id.
func NoticeKey(id int) string { return fmt.Sprintf("notice:%d", id) }

// AdKey is the key of ad slot slot of orientation o.
func AdKey(o string, slot int) string { return fmt.Sprintf("ad:%s:%d", o, slot) }

// PassKey is the key of visitor pass id.
func PassKey(id int) string { return fmt.Sprintf("pass:%d", id) }
