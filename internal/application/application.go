// Package application handles 业主申请: a person scans the community's QR code,
// fills in the H5 form (room, name, phones, ID number, photos) and submits;
// property staff approve it, which creates the resident, or reject it with a
// reason the applicant can look up by phone number.
package application

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	entapp "linli/internal/ent/application"
	attempt "linli/internal/ent/applicationattempt"
	"linli/internal/ent/community"
	"linli/internal/ent/predicate"
	"linli/internal/ent/room"
	"linli/internal/errs"
	"linli/internal/idnumber"
	"linli/internal/imaging"
	"linli/internal/phone"
	"linli/internal/resident"
	"linli/internal/secret"
	"linli/internal/store"
	"linli/internal/validate"
)

// Limits of an application.
const (
	MaxPhotos          = 3
	MaxReasonLen       = 200
	PerIPPerHour       = 10 // submissions from one address
	PerPhonePerDay     = 3  // submissions for one phone number
	MaxPhotoBytes      = 5 << 20
	photoMaxSide       = 1600 // stored photos are scaled down to this
	tokenBytes         = 18
	statusLookupWindow = time.Minute
)

// PhotoLimits bound an uploaded photo: what a phone camera takes, no more.
var PhotoLimits = imaging.Limits{MaxBytes: MaxPhotoBytes, MinWidth: 64, MinHeight: 64,
	MaxWidth: imaging.CameraSide, MaxHeight: imaging.CameraSide, MaxPixels: imaging.CameraPixels, Label: "信息照片"}

// Service handles applications.
type Service struct {
	db        *store.Store
	box       *secret.Box
	files     resident.Files
	residents *resident.Service
	logger    *slog.Logger
	pictures  *imaging.Gate
	lookups   *limiter
	now       func() time.Time
	publicURL string
}

// NewService returns a Service that decodes photos through pictures.
// publicURL, when set, is the base of QR-code links.
func NewService(db *store.Store, box *secret.Box, files resident.Files, residents *resident.Service, pictures *imaging.Gate, publicURL string, logger *slog.Logger) *Service {
	return &Service{db: db, box: box, files: files, residents: residents, pictures: pictures, publicURL: publicURL, logger: logger,
		lookups: newLimiter(20, statusLookupWindow), now: time.Now}
}

// Token returns the secret link token of community cid, creating it on
// first use. Errors: errs.NotFound.
func (s *Service) Token(ctx context.Context, cid int) (string, error) {
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return "", err
	}
	if c.ApplyToken != "" {
		return c.ApplyToken, nil
	}
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	if err := s.db.Community.UpdateOneID(cid).SetApplyToken(token).Exec(ctx); err != nil {
		return "", err
	}
	return token, nil
}

// byToken finds the community of a public link; the request has no actor,
// so it reads as the system and scopes everything to that community.
func (s *Service) byToken(ctx context.Context, token string) (context.Context, *ent.Community, error) {
	sys := actor.AsSystem(ctx)
	if len(token) < 16 || len(token) > 64 {
		return sys, nil, errs.New(errs.NotFound, "申请链接无效，请重新扫描小区的业主申请二维码")
	}
	c, err := s.db.Community.Query().Where(community.ApplyToken(token)).Only(sys)
	if ent.IsNotFound(err) {
		return sys, nil, errs.New(errs.NotFound, "申请链接无效，请重新扫描小区的业主申请二维码")
	}
	return sys, c, err
}

// Submission is what an applicant fills in.
type Submission struct {
	RoomID       int
	Name         string
	Gender       string
	Phone        string
	ContactPhone string
	IDNumber     string
	Role         string
	Photos       []io.ReadSeeker // uploaded files, read only once there is room to decode them
	IP           string
}

// Submit files an application through the public link token.
//
// Errors: errs.NotFound (bad link), errs.Invalid (names the field),
// errs.TooMany (too many from this address or phone), errs.Conflict (a
// pending application for the same room and phone), errs.Unavailable (no
// room to decode the photos in time).
func (s *Service) Submit(ctx context.Context, token string, in Submission) (*ent.Application, error) {
	sys, c, err := s.byToken(ctx, token)
	if err != nil {
		return nil, err
	}
	name, err := validate.Text("name", "姓名", in.Name, 1, resident.MaxNameLen)
	if err != nil {
		return nil, err
	}
	ph, perr := phone.Parse(in.Phone)
	if perr != nil {
		return nil, errs.Field("phone", perr.Error())
	}
	contact := ""
	if strings.TrimSpace(in.ContactPhone) != "" {
		if contact, perr = phone.Parse(in.ContactPhone); perr != nil {
			return nil, errs.Field("contact_phone", "联系人"+perr.Error())
		}
	}
	gender := in.Gender
	if gender == "" {
		gender = "unknown"
	}
	if entapp.GenderValidator(entapp.Gender(gender)) != nil {
		return nil, errs.Field("gender", "性别只能是男或女")
	}
	role := in.Role
	if role == "" && len(c.ResidentRoles) > 0 {
		role = c.ResidentRoles[0]
	}
	if !slices.Contains(c.ResidentRoles, role) {
		return nil, errs.Fieldf("role", "角色“%s”不在本小区的业主角色组中", role)
	}
	idn := ""
	if strings.TrimSpace(in.IDNumber) != "" {
		if idn, err = idnumber.Parse(in.IDNumber); err != nil {
			return nil, errs.Field("id_number", err.Error())
		}
	}
	if len(in.Photos) > MaxPhotos {
		return nil, errs.Fieldf("photos", "最多上传 %d 张照片", MaxPhotos)
	}
	rm, err := s.db.Room.Query().Where(room.ID(in.RoomID), room.CommunityID(c.ID)).WithUnit().Only(sys)
	if ent.IsNotFound(err) {
		return nil, errs.Field("room_id", "请选择申请的房间")
	}
	if err != nil {
		return nil, err
	}
	// The attempt counts from here on, whatever becomes of it.
	if err := s.reserve(sys, in.IP); err != nil {
		return nil, err
	}
	if err := s.throttle(sys, ph, rm.ID); err != nil {
		return nil, err
	}
	// Every photo's header is checked before any is decoded; then they are
	// decoded one at a time, each when the server has room for it.
	photoErr := func(i int, err error) error {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			return errs.Fieldf("photos", "第 %d 张照片：%s", i+1, e.Message)
		}
		return err
	}
	heads := make([]imaging.Header, len(in.Photos))
	for i, p := range in.Photos {
		if heads[i], err = imaging.Inspect("photos", p, PhotoLimits); err != nil {
			return nil, photoErr(i, err)
		}
	}
	var encoded [][]byte
	for i, p := range in.Photos {
		out, err := s.pictures.JPEG(ctx, "photos", p, heads[i], PhotoLimits, photoMaxSide, 85)
		if err != nil {
			return nil, photoErr(i, err)
		}
		encoded = append(encoded, out)
	}
	keys := make([]string, len(encoded))
	for i, data := range encoded {
		keys[i] = fmt.Sprintf(photoPrefix+"%d/%s.jpg", c.ID, randomName())
		if err := s.files.Put(sys, keys[i], data); err != nil {
			s.deleteFiles(sys, keys[:i])
			return nil, err
		}
	}
	b, err := s.db.Building.Get(sys, rm.Edges.Unit.BuildingID)
	if err != nil {
		s.deleteFiles(sys, keys)
		return nil, err
	}
	create := s.db.Application.Create().SetCommunityID(c.ID).SetRoomID(rm.ID).
		SetAreaID(b.AreaID).SetBuildingID(b.ID).SetUnitID(rm.UnitID).
		SetName(name).SetGender(entapp.Gender(gender)).SetPhone(ph).SetContactPhone(contact).
		SetRole(role).SetPhotos(keys).SetIP(in.IP)
	if idn != "" {
		create.SetIDNumberSealed(s.box.Seal(idn)).SetIDNumberMasked(idnumber.Mask(idn))
	}
	a, err := create.Save(sys)
	if err != nil {
		s.deleteFiles(sys, keys)
		return nil, store.Map(err, "申请")
	}
	s.logger.InfoContext(ctx, "application submitted", "community", c.ID, "application", a.ID, "ip", in.IP)
	return a, nil
}

// reserve records a submission from address ip, then refuses it if the
// address made more than PerIPPerHour in the last hour. Recording first and
// counting after means that concurrent submissions cannot all pass one
// count: the last to be recorded sees every other.
func (s *Service) reserve(ctx context.Context, ip string) error {
	now := s.now()
	if err := s.db.ApplicationAttempt.Create().SetIP(ip).SetCreatedAt(now).Exec(ctx); err != nil {
		return err
	}
	n, err := s.db.ApplicationAttempt.Query().Where(attempt.IP(ip), attempt.CreatedAtGT(now.Add(-time.Hour))).Count(ctx)
	if err != nil {
		return err
	}
	if n > PerIPPerHour {
		return errs.New(errs.TooMany, "提交过于频繁，请一小时后再试")
	}
	return nil
}

// PurgeAttempts forgets submissions older than a day; the limits look back
// an hour.
func (s *Service) PurgeAttempts(ctx context.Context) error {
	_, err := s.db.ApplicationAttempt.Delete().Where(attempt.CreatedAtLT(s.now().Add(-24 * time.Hour))).Exec(ctx)
	return err
}

// throttle refuses floods of one phone: per day, and a second pending
// application for the same room and phone.
func (s *Service) throttle(ctx context.Context, ph string, roomID int) error {
	now := s.now()
	n, err := s.db.Application.Query().Where(entapp.Phone(ph), entapp.CreatedAtGT(now.Add(-24*time.Hour))).Count(ctx)
	if err != nil {
		return err
	}
	if n >= PerPhonePerDay {
		return errs.New(errs.TooMany, "该手机号今天的申请次数已达上限，请明天再试")
	}
	pending, err := s.db.Application.Query().Where(entapp.Phone(ph), entapp.RoomID(roomID), entapp.StatusEQ(entapp.StatusPending)).Exist(ctx)
	if err != nil {
		return err
	}
	if pending {
		return errs.New(errs.Conflict, "该手机号对这个房间的申请正在审核中，请耐心等待物业处理")
	}
	return nil
}

func (s *Service) deleteFiles(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := s.files.Delete(ctx, k); err != nil {
			s.logger.ErrorContext(ctx, "delete application photo", "key", k, "err", err)
		}
	}
}

// Filter selects applications in the staff list; it is also the list's query.
type Filter struct {
	resident.Filter
	Status string `query:"status" enum:"pending,approved,rejected," doc:"状态"`
}

// List returns a page of applications of community cid, newest first.
func (s *Service) List(ctx context.Context, cid int, f Filter, offset, limit int) ([]*ent.Application, int, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, 0, err
	}
	ps := []predicate.Application{entapp.CommunityID(cid)}
	if f.AreaID > 0 {
		ps = append(ps, entapp.AreaID(f.AreaID))
	}
	if f.BuildingID > 0 {
		ps = append(ps, entapp.BuildingID(f.BuildingID))
	}
	if f.UnitID > 0 {
		ps = append(ps, entapp.UnitID(f.UnitID))
	}
	if f.RoomID > 0 {
		ps = append(ps, entapp.RoomID(f.RoomID))
	}
	if f.Floor > 0 {
		ids, err := s.db.Room.Query().Where(room.CommunityID(cid), room.Floor(f.Floor)).IDs(ctx)
		if err != nil {
			return nil, 0, err
		}
		ps = append(ps, entapp.RoomIDIn(ids...))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		ps = append(ps, store.ApplicationSearch.Contains(q))
	}
	if f.Status != "" {
		ps = append(ps, entapp.StatusEQ(entapp.Status(f.Status)))
	}
	q := s.db.Application.Query().Where(ps...)
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	items, err := q.Order(ent.Desc(entapp.FieldCreatedAt), ent.Desc(entapp.FieldID)).Offset(offset).Limit(limit).All(ctx)
	return items, total, err
}

// Get returns application id of community cid.
func (s *Service) Get(ctx context.Context, cid, id int) (*ent.Application, error) {
	a, err := s.db.Application.Query().Where(entapp.ID(id), entapp.CommunityID(cid)).Only(ctx)
	return a, store.Map(err, "申请")
}

// Approve creates the resident of a pending application (通过).
//
// Errors: errs.NotFound, errs.Conflict (not pending), errs.Invalid (for
// example the phone is already a resident of that room).
func (s *Service) Approve(ctx context.Context, cid, id int) (*ent.Application, error) {
	a, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if a.Status != entapp.StatusPending {
		return nil, errs.New(errs.Conflict, "该申请已处理，不能重复审核")
	}
	in := resident.Input{RoomID: &a.RoomID, Name: &a.Name, Phone: &a.Phone, Role: &a.Role, Origin: "application"}
	g := string(a.Gender)
	in.Gender = &g
	if a.IDNumberSealed != nil && len(*a.IDNumberSealed) > 0 {
		v, err := s.box.Open(*a.IDNumberSealed)
		if err != nil {
			return nil, err
		}
		in.IDNumber = &v
	}
	r, err := s.residents.Create(ctx, cid, in)
	if err != nil {
		return nil, err
	}
	return s.decide(ctx, cid, id, entapp.StatusApproved, "", &r.ID)
}

// Reject returns a pending application with a reason (打回).
func (s *Service) Reject(ctx context.Context, cid, id int, reason string) (*ent.Application, error) {
	reason, err := validate.Text("reason", "打回原因", reason, 1, MaxReasonLen)
	if err != nil {
		return nil, err
	}
	a, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if a.Status != entapp.StatusPending {
		return nil, errs.New(errs.Conflict, "该申请已处理，不能重复审核")
	}
	return s.decide(ctx, cid, id, entapp.StatusRejected, reason, nil)
}

func (s *Service) decide(ctx context.Context, cid, id int, status entapp.Status, reason string, residentID *int) (*ent.Application, error) {
	u := s.db.Application.UpdateOneID(id).Where(entapp.StatusEQ(entapp.StatusPending)).
		SetStatus(status).SetReason(reason).SetNillableResidentID(residentID).
		SetDecidedAt(s.now()).SetUpdatedAt(s.now())
	if p := auth.Current(ctx); p != nil {
		u.SetDecidedBy(p.Account.ID)
	}
	if err := u.Exec(ctx); err != nil {
		if ent.IsNotFound(err) {
			return nil, errs.New(errs.Conflict, "该申请已处理，不能重复审核")
		}
		return nil, err
	}
	return s.Get(ctx, cid, id)
}

// Delete removes application id and its photos.
func (s *Service) Delete(ctx context.Context, cid, id int) error {
	a, err := s.Get(ctx, cid, id)
	if err != nil {
		return err
	}
	if err := s.db.Application.DeleteOneID(id).Exec(ctx); err != nil {
		return store.Map(err, "申请")
	}
	s.deleteFiles(ctx, a.Photos)
	return nil
}

// Photo returns photo n (1-based) of application id.
func (s *Service) Photo(ctx context.Context, cid, id, n int) ([]byte, error) {
	a, err := s.Get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > len(a.Photos) {
		return nil, errs.New(errs.NotFound, "照片不存在")
	}
	return s.files.Get(ctx, a.Photos[n-1])
}

func randomName() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return strings.ToLower(base64.RawURLEncoding.EncodeToString(b))
}
