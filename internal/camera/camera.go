// Package camera is 监控设备: the community's IP cameras (and door stations
// that offer ONVIF). Staff add a camera by address and credentials; the
// server asks it over ONVIF what it is and where its stream and snapshot
// are (internal/ipcam), keeps the password sealed (internal/secret), serves
// its snapshot, and plays it live in the browser through the media relay:
// one RTSP session per camera, shared by all viewers, ended ten seconds
// after the last viewer left.
package camera

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"linli/internal/ent"
	entcamera "linli/internal/ent/camera"
	"linli/internal/ent/device"
	"linli/internal/errs"
	"linli/internal/ipcam"
	"linli/internal/secret"
	"linli/internal/store"
	"linli/internal/validate"
)

// Limits of cameras.
const (
	MaxName     = 50
	MaxUsername = 64
	MaxPassword = 64
	// ProbeTimeout bounds asking a camera what it is.
	ProbeTimeout = 15 * time.Second
	// SnapshotTTL is how long a snapshot is served from memory.
	SnapshotTTL = 3 * time.Second
	// IdleStop is how long the RTSP session outlives its last viewer.
	IdleStop = 10 * time.Second
)

// StatusOK is the status of a camera whose last check went well.
const StatusOK = "正常"

// Service keeps the cameras of communities.
type Service struct {
	db     *store.Store
	box    *secret.Box
	logger *slog.Logger
	now    func() time.Time
	probe  func(ctx context.Context, hostport, username, password string) (*ipcam.Info, error)
	shots  *snapshots
	live   *lives
	// loopback lets cameras on this machine be reached (ipcam.AllowLoopback).
	loopback bool
}

// Option changes a Service.
type Option func(*Service)

// WithRelay lets the service play cameras live through r.
func WithRelay(r Relay) Option { return func(s *Service) { s.live.relay = r } }

// WithLoopbackCameras lets cameras on this machine (127.0.0.1) be added
// and played: a local ONVIF bridge, or the fake camera for trying Linli out.
func WithLoopbackCameras() Option { return func(s *Service) { s.loopback = true } }

// reach is ctx under which the service connects to cameras.
func (s *Service) reach(ctx context.Context) context.Context {
	if s.loopback {
		return ipcam.AllowLoopback(ctx)
	}
	return ctx
}

// WithIdleStop changes how long an RTSP session outlives its last viewer.
func WithIdleStop(d time.Duration) Option { return func(s *Service) { s.live.idle = d } }

// NewService returns a Service; without WithRelay, live view is unavailable.
func NewService(db *store.Store, box *secret.Box, logger *slog.Logger, opts ...Option) *Service {
	s := &Service{db: db, box: box, logger: logger, now: time.Now, probe: ipcam.Probe,
		shots: &snapshots{entries: map[int]*shot{}}}
	s.live = &lives{feeds: map[int]*feed{}, idle: IdleStop, logger: logger}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close ends every live session.
func (s *Service) Close() { s.live.closeAll() }

// Camera is a camera as the console shows it.
type Camera struct {
	ID            int        `json:"id"`
	Name          string     `json:"name" doc:"名称"`
	Address       string     `json:"address" doc:"ONVIF 地址（IP:端口）"`
	Username      string     `json:"username" doc:"用户名"`
	DeviceID      *int       `json:"device_id,omitempty" doc:"对应的门禁设备（门口机等），可不填"`
	Manufacturer  string     `json:"manufacturer" doc:"厂商"`
	Model         string     `json:"model" doc:"型号"`
	Firmware      string     `json:"firmware" doc:"固件版本"`
	Serial        string     `json:"serial" doc:"序列号"`
	ProfileToken  string     `json:"profile_token" doc:"使用的 ONVIF 配置（H.264）"`
	StreamURI     string     `json:"stream_uri" doc:"RTSP 地址（不含密码）"`
	HasSnapshot   bool       `json:"has_snapshot" doc:"摄像机提供抓图"`
	Width         int        `json:"width" doc:"分辨率宽"`
	Height        int        `json:"height" doc:"分辨率高"`
	VideoCodec    string     `json:"video_codec" doc:"视频编码"`
	AudioCodec    string     `json:"audio_codec" doc:"音频编码，空为无音频"`
	LastCheckedAt *time.Time `json:"last_checked_at,omitempty" doc:"上次检测时间"`
	LastError     string     `json:"last_error" doc:"上次检测的错误，空为正常"`
	Status        string     `json:"status" doc:"正常，或上次检测的错误"`
	Viewers       int        `json:"viewers" doc:"正在观看实时画面的人数"`
	CreatedAt     time.Time  `json:"created_at"`
}

func (s *Service) view(c *ent.Camera) Camera {
	status := StatusOK
	if c.LastError != "" {
		status = c.LastError
	}
	return Camera{ID: c.ID, Name: c.Name, Address: c.Address, Username: c.Username, DeviceID: c.DeviceID,
		Manufacturer: c.Manufacturer, Model: c.Model, Firmware: c.Firmware, Serial: c.Serial, ProfileToken: c.ProfileToken,
		StreamURI: c.StreamURI, HasSnapshot: c.SnapshotURI != "", Width: c.Width, Height: c.Height,
		VideoCodec: c.VideoCodec, AudioCodec: c.AudioCodec, LastCheckedAt: c.LastCheckedAt, LastError: c.LastError,
		Status: status, Viewers: s.live.viewers(c.ID), CreatedAt: c.CreatedAt}
}

// Input is what staff give for a camera; nil fields are left as they are
// on update. An empty password on update keeps the stored one.
type Input struct {
	Name     *string `json:"name,omitempty" maxLength:"200" doc:"名称，1 到 50 个字"`
	Address  *string `json:"address,omitempty" maxLength:"200" doc:"ONVIF 地址：IP:端口（如 192.168.1.64:80）或 http://IP:端口"`
	Username *string `json:"username,omitempty" maxLength:"200" doc:"用户名"`
	Password *string `json:"password,omitempty" maxLength:"200" doc:"密码；修改时不填为不变"`
	DeviceID *int    `json:"device_id,omitempty" minimum:"0" doc:"对应的门禁设备编号，0 为不对应"`
}

// checked is an Input after validation.
type checked struct {
	name, hostport, username, password string
	deviceID                           *int
}

// validate checks in against the camera as it is (nil for a new one).
func (s *Service) validate(ctx context.Context, cid int, in Input, cur *ent.Camera) (*checked, error) {
	out := &checked{}
	var fields []errs.FieldError
	bad := func(field, msg string) { fields = append(fields, errs.FieldError{Field: field, Message: msg}) }
	if cur != nil {
		out.name, out.hostport, out.username, out.deviceID = cur.Name, cur.Address, cur.Username, cur.DeviceID
	}
	if in.Name != nil || cur == nil {
		out.name = strings.TrimSpace(deref(in.Name))
		if n := utf8.RuneCountInString(out.name); n == 0 || n > MaxName {
			bad("name", "名称必须是 1 到 50 个字")
		} else if e := (*errs.Error)(nil); errors.As(validate.Visible("name", "名称", out.name), &e) {
			bad("name", e.Message)
		}
	}
	if in.Address != nil || cur == nil {
		hp, err := ipcam.Host(deref(in.Address))
		if err != nil {
			bad("address", "地址格式不正确：请填写 IP:端口（如 192.168.1.64:80）或 http://IP:端口")
		}
		out.hostport = hp
	}
	if in.Username != nil || cur == nil {
		out.username = strings.TrimSpace(deref(in.Username))
		if n := utf8.RuneCountInString(out.username); n == 0 || n > MaxUsername {
			bad("username", "用户名必须是 1 到 64 个字符")
		}
	}
	if in.Password != nil && *in.Password != "" {
		out.password = *in.Password
		if utf8.RuneCountInString(out.password) > MaxPassword {
			bad("password", "密码最多 64 个字符")
		}
	} else if cur == nil {
		bad("password", "请填写摄像机的密码")
	}
	if in.DeviceID != nil {
		if *in.DeviceID == 0 {
			out.deviceID = nil
		} else if ok, err := s.db.Device.Query().Where(device.ID(*in.DeviceID), device.CommunityID(cid)).Exist(ctx); err != nil {
			return nil, err
		} else if !ok {
			bad("device_id", "门禁设备不存在或不属于本小区")
		} else {
			id := *in.DeviceID
			out.deviceID = &id
		}
	}
	if len(fields) > 0 {
		return nil, &errs.Error{Code: errs.Invalid, Message: fields[0].Message, Fields: fields}
	}
	q := s.db.Camera.Query().Where(entcamera.CommunityID(cid), entcamera.Name(out.name))
	if cur != nil {
		q = q.Where(entcamera.IDNEQ(cur.ID))
	}
	if taken, err := q.Exist(ctx); err != nil {
		return nil, err
	} else if taken {
		return nil, errs.Field("name", "本小区已有同名的监控设备")
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// probeError turns what ipcam says into a message for the form.
func probeError(err error) error {
	switch {
	case errors.Is(err, ipcam.ErrForbidden):
		return errs.Field("address", "不能添加本机、链路本地（169.254.x.x）或组播地址：请填写摄像机在局域网中的 IP 地址")
	case errors.Is(err, ipcam.ErrAddress):
		return errs.Field("address", "地址格式不正确：请填写 IP:端口（如 192.168.1.64:80）或 http://IP:端口")
	case errors.Is(err, ipcam.ErrUnreachable):
		return &errs.Error{Code: errs.Invalid, Message: "无法连接摄像机：请检查地址和端口，以及服务器到摄像机的网络",
			Fields: []errs.FieldError{{Field: "address", Message: "无法连接摄像机：请检查地址和端口，以及服务器到摄像机的网络"}}, Err: err}
	case errors.Is(err, ipcam.ErrAuth):
		return &errs.Error{Code: errs.Invalid, Message: "用户名或密码错误：摄像机拒绝了登录",
			Fields: []errs.FieldError{{Field: "password", Message: "用户名或密码错误：摄像机拒绝了登录"}}, Err: err}
	case errors.Is(err, ipcam.ErrNoH264):
		return &errs.Error{Code: errs.Invalid, Message: "摄像机没有 H.264 视频配置：请在摄像机设置中把视频编码改为 H.264",
			Fields: []errs.FieldError{{Field: "address", Message: "摄像机没有 H.264 视频配置：请在摄像机设置中把视频编码改为 H.264"}}, Err: err}
	default:
		return &errs.Error{Code: errs.Invalid, Message: "该地址不是 ONVIF 摄像机，或摄像机的回答无法识别：请确认已开启 ONVIF 服务",
			Fields: []errs.FieldError{{Field: "address", Message: "该地址不是 ONVIF 摄像机，或摄像机的回答无法识别：请确认已开启 ONVIF 服务"}}, Err: err}
	}
}

// lastError is the short Chinese status of a failed check.
func lastError(err error) string {
	if e, ok := errs.As(probeError(err)); ok {
		msg, _, _ := strings.Cut(e.Message, "：")
		return msg
	}
	return "检测失败"
}

// snapshots caches the last picture of each camera for SnapshotTTL; one
// fetch per camera at a time.
type snapshots struct {
	mu      sync.Mutex
	entries map[int]*shot
}

type shot struct {
	mu   sync.Mutex // held while fetching
	at   time.Time
	data []byte
}

func (c *snapshots) get(id int) *shot {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e == nil {
		e = &shot{}
		c.entries[id] = e
	}
	return e
}

func (c *snapshots) forget(id int) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
