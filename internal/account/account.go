// Package account lets platform operators manage console accounts: create a
// property-manager account for a community, reset its password, delete it;
// and creates the first operator account when the platform starts empty.
package account

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent"
	entaccount "linli/internal/ent/account"
	"linli/internal/ent/community"
	"linli/internal/errs"
	"linli/internal/password"
	"linli/internal/phone"
	"linli/internal/store"
	"linli/internal/validate"
)

// Service manages accounts.
type Service struct {
	db     *store.Store
	logger *slog.Logger
}

// NewService returns a Service on db.
func NewService(db *store.Store, logger *slog.Logger) *Service {
	return &Service{db: db, logger: logger}
}

// Roles an account may have.
const (
	RoleOperator      = "operator"
	RolePropertyAdmin = "property_admin"
)

var accountRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.@-]{2,31}$`)

// Input creates an account.
type Input struct {
	Account      string
	Name         string
	Phone        string
	Email        string
	Role         string
	CommunityIDs []int
	Password     string // empty: password.DefaultInitial
	StaffRole    string // the 角色 of property staff; empty: 物业管理员
}

func (in *Input) check() error {
	in.Account = auth.NormalizeAccount(in.Account)
	if !accountRE.MatchString(in.Account) {
		return errs.Field("account", "账号须为 3 到 32 位小写字母、数字或 _ . @ -，并以字母或数字开头")
	}
	var err error
	if in.Name, err = validate.Text("name", "称呼", in.Name, 1, 32); err != nil {
		return err
	}
	// The phone and e-mail recover the account (忘记密码): a mobile number
	// that can receive SMS, and a real address.
	if strings.TrimSpace(in.Phone) == "" {
		return errs.Field("phone", "电话不能为空")
	}
	if in.Phone, err = phone.Parse(in.Phone); err != nil {
		return errs.Field("phone", "电话格式不正确："+err.Error())
	}
	if in.Email, err = validate.Email("email", "邮箱", in.Email); err != nil {
		return errs.Field("email", "邮箱格式不正确，如 wang@example.com")
	}
	switch in.Role {
	case RolePropertyAdmin:
		if len(in.CommunityIDs) == 0 {
			return errs.Field("community_ids", "物业管理员账号至少要属于一个小区")
		}
	case RoleOperator:
		if len(in.CommunityIDs) > 0 {
			return errs.Field("community_ids", "平台管理员可管理全部小区，不需要指定小区")
		}
	default:
		return errs.Field("role", "角色只能是 property_admin（物业管理员）或 operator（平台管理员）")
	}
	if in.Password == "" {
		in.Password = password.DefaultInitial
	} else if n := len([]rune(in.Password)); n < 6 || n > password.MaxLength {
		return errs.Field("password", "初始密码须为 6 到 128 个字符")
	}
	return nil
}

// Create adds an account that must change its initial password at first login.
//
// Errors: errs.Invalid, errs.Conflict (the account name is taken), errs.NotFound
// (a community does not exist).
func (s *Service) Create(ctx context.Context, in Input) (*ent.Account, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	slices.Sort(in.CommunityIDs)
	in.CommunityIDs = slices.Compact(in.CommunityIDs)
	n, err := s.db.Community.Query().Where(community.IDIn(in.CommunityIDs...)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n != len(in.CommunityIDs) {
		return nil, errs.Field("community_ids", "所选小区不存在")
	}
	if taken, err := s.db.Account.Query().Where(entaccount.Account(in.Account)).Exist(ctx); err != nil {
		return nil, err
	} else if taken {
		return nil, errs.Fieldf("account", "账号“%s”已存在", in.Account)
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	a, err := s.db.Account.Create().
		SetAccount(in.Account).SetName(in.Name).SetPhone(in.Phone).SetEmail(in.Email).
		SetRole(entaccount.Role(in.Role)).SetPasswordHash(hash).SetMustChangePassword(true).
		AddCommunityIDs(in.CommunityIDs...).SetStaffRole(in.StaffRole).
		Save(ctx)
	if err != nil {
		return nil, store.Map(err, "账号")
	}
	s.logger.InfoContext(ctx, "account created", "account", a.Account, "role", a.Role, "communities", in.CommunityIDs)
	return s.Get(ctx, a.ID)
}

// Get returns account id with its communities.
func (s *Service) Get(ctx context.Context, id int) (*ent.Account, error) {
	a, err := s.db.Account.Query().Where(entaccount.ID(id)).WithCommunities().Only(ctx)
	return a, store.Map(err, "账号")
}

// List returns a page of accounts, optionally only those of one community.
func (s *Service) List(ctx context.Context, communityID, offset, limit int) ([]*ent.Account, int, error) {
	q := s.db.Account.Query()
	if communityID > 0 {
		q.Where(entaccount.HasCommunitiesWith(community.ID(communityID)))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	items, err := q.WithCommunities().Order(ent.Asc(entaccount.FieldID)).Offset(offset).Limit(limit).All(ctx)
	return items, total, err
}

// ResetPassword sets account id's password to pw (or 123456), requires a
// change at next login and ends its sessions.
func (s *Service) ResetPassword(ctx context.Context, id int, pw string) error {
	if pw == "" {
		pw = password.DefaultInitial
	} else if n := len([]rune(pw)); n < 6 || n > password.MaxLength {
		return errs.Field("password", "重置的密码须为 6 到 128 个字符")
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *ent.Tx) error {
		if err := tx.Account.UpdateOneID(id).SetPasswordHash(hash).SetMustChangePassword(true).
			SetUpdatedAt(time.Now()).Exec(ctx); err != nil {
			return store.Map(err, "账号")
		}
		return auth.KillSessions(ctx, tx.Client(), id)
	})
}

// Delete removes account id and its sessions. An operator cannot delete
// itself, so the platform always keeps one.
func (s *Service) Delete(ctx context.Context, id int) error {
	if a, ok := actor.From(ctx); ok && a.AccountID == id {
		return errs.New(errs.Conflict, "不能删除当前登录的账号")
	}
	return s.db.InTx(ctx, func(tx *ent.Tx) error {
		if err := auth.KillSessions(ctx, tx.Client(), id); err != nil {
			return err
		}
		return store.Map(tx.Account.DeleteOneID(id).Exec(ctx), "账号")
	})
}

// EnsureOperator creates the first platform operator when no operator exists
// and reports whether it did. Its initial password is pw, or a random one
// that is logged once; either must be changed at first login.
func (s *Service) EnsureOperator(ctx context.Context, name, pw string) (bool, error) {
	sys := actor.AsSystem(ctx)
	exists, err := s.db.Account.Query().Where(entaccount.RoleEQ(entaccount.RoleOperator)).Exist(sys)
	if err != nil || exists {
		return false, err
	}
	generated := pw == ""
	if generated {
		pw = randomPassword()
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return false, err
	}
	name = auth.NormalizeAccount(name)
	// Instances starting together on a new database each find no operator:
	// under one lock the first creates it and the others find it.
	created := false
	err = s.db.InTx(sys, func(tx *ent.Tx) error {
		if err := s.db.Lock(sys, tx, "first-operator"); err != nil {
			return err
		}
		exists, err := tx.Account.Query().Where(entaccount.RoleEQ(entaccount.RoleOperator)).Exist(sys)
		if err != nil || exists {
			return err
		}
		created = true
		return tx.Account.Create().SetAccount(name).SetName("平台管理员").SetRole(entaccount.RoleOperator).
			SetPasswordHash(hash).SetMustChangePassword(true).Exec(sys)
	})
	if err != nil {
		return false, fmt.Errorf("account: create first operator: %w", err)
	}
	if !created {
		return false, nil
	}
	if generated {
		s.logger.Warn("created the platform operator account; this one-time password is shown only now and must be changed at first login",
			"account", name, "password", pw)
	} else {
		s.logger.Warn("created the platform operator account with the password from LINLI_ADMIN_PASSWORD; it must be changed at first login",
			"account", name)
	}
	return true, nil
}

// randomPassword returns 16 characters from an alphabet without look-alikes.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
