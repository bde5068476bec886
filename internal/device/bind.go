package device

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"linli/internal/actor"
	"linli/internal/ent"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/loginfailure"
	"linli/internal/errs"
	"linli/internal/firmware"
	"linli/internal/mqtt"
	"linli/internal/secret"
	"linli/internal/store"
)

// Throttling of wrong community passwords at binding.
const (
	BindFailures = 5
	BindWindow   = 10 * time.Minute
)

// Service binds and authenticates devices.
type Service struct {
	db     *store.Store
	box    *secret.Box
	logger *slog.Logger
	now    func() time.Time
	// broker carries commands to devices (nil: no broker).
	broker Broker
	// firmware keeps the images devices are upgraded to.
	firmware *firmware.Service
	// sipPresence reads devices' SIP registrations (nil: SIP off).
	sipPresence SIPPresence
	// acks are the remote openings waiting on this instance.
	acks acks
	// presenceGrace is how long ResyncPresence waits for devices to answer.
	presenceGrace time.Duration
}

// An Option gives a Service what a part of it needs.
type Option func(*Service)

// WithFirmware serves devices the firmware images of fws and upgrades them.
func WithFirmware(fws *firmware.Service) Option { return func(s *Service) { s.firmware = fws } }

// WithSIPPresence lets 设备列表 show each bound device's SIP registration;
// without it (SIP off) the column stays empty.
func WithSIPPresence(p SIPPresence) Option { return func(s *Service) { s.sipPresence = p } }

// NewService returns a Service that reaches devices through broker (nil
// when devices have no broker: commands then fail as if devices were
// offline).
func NewService(db *store.Store, box *secret.Box, broker Broker, logger *slog.Logger, opts ...Option) *Service {
	s := &Service{db: db, box: box, broker: broker, logger: logger, now: time.Now, presenceGrace: DefaultPresenceGrace}
	for _, o := range opts {
		o(s)
	}
	return s
}

// BindInput is what an installer's device sends to bind itself.
type BindInput struct {
	CommunityID       int
	CommunityPassword string
	Slot              Slot
	Serial            string
	Model             string
	Firmware          string
	Orientation       string // landscape 横屏 or portrait 竖屏
	IP                string
}

// Credentials are what a device receives once, at binding.
type Credentials struct {
	DeviceID int    `json:"device_id"`
	Label    string `json:"label" doc:"设备位置，如 【测试小区1】-1区-2栋-1单元-门口机6"`
	Token    string `json:"token" doc:"HTTP 接口令牌：Authorization: Bearer <token>"`
	MQTT     struct {
		Username    string `json:"username"`
		Password    string `json:"password"`
		ClientID    string `json:"client_id"`
		CmdTopic    string `json:"cmd_topic" doc:"订阅：服务器下发的指令"`
		StatusTopic string `json:"status_topic" doc:"发布：设备状态（遗嘱消息也发到这里）"`
	} `json:"mqtt"`
	SIP struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"sip"`
}

var serialRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}$`)

func secretString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the stored form of a device secret. Device secrets are
// 32 random bytes, so a plain SHA-256 is enough (no password stretching).
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Bind binds a device to a slot and returns fresh credentials. Binding the
// same serial to the same slot again replaces the credentials (the old ones
// stop working).
//
// Errors: errs.TooMany (too many wrong passwords), errs.Unauthorized (wrong
// community or password), errs.Invalid (slot, serial), errs.Conflict (the
// serial is bound elsewhere, or the slot holds another device).
func (s *Service) Bind(ctx context.Context, in BindInput) (*Credentials, error) {
	sys := actor.AsSystem(ctx)
	now := s.now()
	// The attempt is recorded as a failure before the password is compared
	// (and removed again when it was right), so that concurrent guesses
	// cannot get past the limit.
	failKey := fmt.Sprintf("bind:%d", in.CommunityID)
	var attempt int
	err := s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := s.db.Lock(sys, tx, failKey+"@"+in.IP); err != nil {
			return err
		}
		n, err := tx.LoginFailure.Query().Where(loginfailure.Account(failKey), loginfailure.IP(in.IP),
			loginfailure.CreatedAtGT(now.Add(-BindWindow))).Count(sys)
		if err != nil {
			return err
		}
		if n >= BindFailures {
			return errs.New(errs.TooMany, "小区密码错误次数过多，请 10 分钟后再试")
		}
		f, err := tx.LoginFailure.Create().SetAccount(failKey).SetIP(in.IP).SetCreatedAt(now).Save(sys)
		if err != nil {
			return err
		}
		attempt = f.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	c, err := s.db.Community.Get(sys, in.CommunityID)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if err != nil || subtle.ConstantTimeCompare([]byte(c.CommunityPassword), []byte(in.CommunityPassword)) != 1 {
		s.logger.WarnContext(ctx, "device bind refused", "community", in.CommunityID, "ip", in.IP, "serial", in.Serial)
		return nil, errs.New(errs.Unauthorized, "小区编号或小区密码错误")
	}
	if err := s.db.LoginFailure.DeleteOneID(attempt).Exec(sys); err != nil {
		return nil, err
	}
	if !serialRE.MatchString(in.Serial) {
		return nil, errs.Field("serial", "设备序列号应为 3 到 64 位字母、数字或 _ . : -")
	}
	if in.Orientation == "" {
		in.Orientation = "landscape"
	}
	if entdevice.OrientationValidator(entdevice.Orientation(in.Orientation)) != nil {
		return nil, errs.Field("orientation", "屏幕方向只能是 landscape（横屏）或 portrait（竖屏）")
	}
	if in.Slot.Kind == KindIndoor {
		in.Slot.Index = 1
	}
	label, err := check(sys, s.db.Client, c, in.Slot)
	if err != nil {
		return nil, err
	}
	token, mqttPW, sipPW := secretString(32), secretString(24), secretString(16)
	var dev *ent.Device
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		bySerial, err := tx.Device.Query().Where(entdevice.Serial(in.Serial)).Only(sys)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if bySerial != nil && (bySerial.CommunityID != c.ID || bySerial.Slot != in.Slot.Key()) {
			return errs.Newf(errs.Conflict, "序列号 %s 的设备已绑定在其他位置，请先在管理后台解绑", in.Serial)
		}
		bySlot, err := tx.Device.Query().Where(entdevice.CommunityID(c.ID), entdevice.Slot(in.Slot.Key())).Only(sys)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if bySlot != nil && bySlot.Serial != in.Serial {
			return errs.Newf(errs.Conflict, "%s 已绑定设备 %s，请先在管理后台解绑", label, bySlot.Serial)
		}
		if bySlot != nil {
			dev, err = tx.Device.UpdateOneID(bySlot.ID).SetModel(in.Model).SetFirmware(in.Firmware).
				SetOrientation(entdevice.Orientation(in.Orientation)).SetIP(in.IP).SetBoundAt(now).SetLastSeen(now).
				SetTokenHash(HashSecret(token)).SetMqttPasswordHash(HashSecret(mqttPW)).
				SetSipPasswordSealed(s.box.Seal(sipPW)).SetUpdatedAt(now).Save(sys)
			return err
		}
		create := tx.Device.Create().SetCommunityID(c.ID).SetKind(entdevice.Kind(in.Slot.Kind)).
			SetIndex(in.Slot.Index).SetSlot(in.Slot.Key()).SetSerial(in.Serial).SetModel(in.Model).
			SetFirmware(in.Firmware).SetOrientation(entdevice.Orientation(in.Orientation)).SetIP(in.IP).
			SetBoundAt(now).SetLastSeen(now).SetTokenHash(HashSecret(token)).SetMqttPasswordHash(HashSecret(mqttPW)).
			SetSipPasswordSealed(s.box.Seal(sipPW))
		if in.Slot.Kind == KindDoor {
			create.SetUnitID(in.Slot.UnitID)
		}
		if in.Slot.Kind == KindIndoor {
			create.SetRoomID(in.Slot.RoomID)
		}
		dev, err = create.Save(sys)
		return err
	})
	if err != nil {
		return nil, store.Map(err, "设备")
	}
	s.logger.InfoContext(ctx, "device bound", "community", c.ID, "device", dev.ID, "serial", dev.Serial, "slot", dev.Slot)
	cr := &Credentials{DeviceID: dev.ID, Label: label, Token: token}
	cr.MQTT.Username = fmt.Sprintf("dev-%d", dev.ID)
	cr.MQTT.Password = mqttPW
	cr.MQTT.ClientID = cr.MQTT.Username
	cr.MQTT.CmdTopic = CmdTopic(c.ID, dev.ID)
	cr.MQTT.StatusTopic = StatusTopic(c.ID, dev.ID)
	cr.SIP.Username = fmt.Sprintf("d%d", dev.ID)
	cr.SIP.Password = sipPW
	if s.broker != nil {
		if err := s.broker.AddDevice(ctx, mqtt.Device{CommunityID: c.ID, DeviceID: dev.ID}, cr.MQTT.Username, mqttPW); err != nil {
			s.logger.ErrorContext(ctx, "create the device's broker account", "device", dev.ID, "err", err)
			return nil, &errs.Error{Code: errs.Unavailable, Message: "设备消息服务暂时不可用，请稍后重新绑定", Err: err}
		}
	}
	return cr, nil
}

// CmdTopic is where the server sends a device commands.
func CmdTopic(communityID, deviceID int) string {
	return fmt.Sprintf("linli/%d/device/%d/cmd", communityID, deviceID)
}

// StatusTopic is where a device publishes its status and last will.
func StatusTopic(communityID, deviceID int) string {
	return fmt.Sprintf("linli/%d/device/%d/status", communityID, deviceID)
}

// Authenticate returns the device of an HTTP token, or nil.
func (s *Service) Authenticate(ctx context.Context, token string) (*ent.Device, error) {
	if token == "" || len(token) > 100 {
		return nil, nil
	}
	d, err := s.db.Device.Query().Where(entdevice.TokenHash(HashSecret(token))).Only(actor.AsSystem(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return d, err
}

// Seen records that device d was heard from at ip. It writes at most once a
// minute per device, so that thousands of devices syncing at once do not
// queue behind each other's writes.
func (s *Service) Seen(ctx context.Context, d *ent.Device, ip string) error {
	now := s.now()
	if d.LastSeen != nil && now.Sub(*d.LastSeen) < time.Minute && d.IP == ip {
		return nil
	}
	return s.db.Device.UpdateOneID(d.ID).SetLastSeen(now).SetIP(ip).Exec(actor.AsSystem(ctx))
}
