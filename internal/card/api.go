package card

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/cardno"
	"linli/internal/ent"
	"linli/internal/ent/resident"
	"linli/internal/housing"
	"linli/internal/httpapi"
	"linli/internal/perm"
	"linli/internal/store"
)

// Card is a card as 门禁卡列表 shows it.
type Card struct {
	ID           int        `json:"id"`
	Number       string     `json:"number" doc:"卡号"`
	ResidentID   *int       `json:"resident_id,omitempty"`
	ResidentName string     `json:"resident_name" doc:"业主"`
	RoomLabel    string     `json:"room_label" doc:"房间信息；超级卡为【小区名】"`
	Type         string     `json:"type" enum:"normal,super" doc:"普通卡、超级卡"`
	Mode         string     `json:"mode" enum:"ic,id_card" doc:"ic模式、身份证"`
	Status       string     `json:"status" enum:"active,disabled,blank" doc:"正常、停用、白卡"`
	UnitIDs      []int      `json:"unit_ids" doc:"可开的单元（普通卡）"`
	ValidUntil   *time.Time `json:"valid_until,omitempty" doc:"有效日期；为空表示永久有效"`
	CreatedAt    time.Time  `json:"created_at"`
}

// views returns the API form of cards with their residents and rooms.
func (s *Service) views(ctx context.Context, cid int, cards []*ent.Card) ([]Card, error) {
	c, err := store.Community(ctx, s.db.Client, cid)
	if err != nil {
		return nil, err
	}
	var residentIDs, roomIDs []int
	for _, cd := range cards {
		if cd.ResidentID != nil {
			residentIDs = append(residentIDs, *cd.ResidentID)
		}
		if cd.RoomID != nil {
			roomIDs = append(roomIDs, *cd.RoomID)
		}
	}
	rs, err := s.db.Resident.Query().Where(resident.IDIn(residentIDs...)).All(ctx)
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, r := range rs {
		names[r.ID] = r.Name
	}
	labels, err := housing.RoomLabels(ctx, s.db.Client, c.Name, roomIDs)
	if err != nil {
		return nil, err
	}
	out := make([]Card, len(cards))
	for i, cd := range cards {
		v := Card{ID: cd.ID, Number: cd.Number, ResidentID: cd.ResidentID, Type: string(cd.Type), Mode: string(cd.Mode),
			Status: string(cd.Status), UnitIDs: cd.UnitIds, ValidUntil: cd.ValidUntil, CreatedAt: cd.CreatedAt,
			RoomLabel: housing.Label(c.Name)}
		if v.UnitIDs == nil {
			v.UnitIDs = []int{}
		}
		if cd.ResidentID != nil {
			v.ResidentName = names[*cd.ResidentID]
		}
		if cd.RoomID != nil {
			v.RoomLabel = labels[*cd.RoomID]
		}
		out[i] = v
	}
	return out, nil
}

// CardPath is the path of one card.
type CardPath struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	ID  int `path:"id" minimum:"1" doc:"卡编号"`
}

type listCardsInput struct {
	CID int `path:"cid" minimum:"1" doc:"小区编号"`
	httpapi.PageParams
	CardFilter
}

// IssueBody is what issuing any card takes.
type IssueBody struct {
	Number     string     `json:"number" minLength:"1" maxLength:"32" doc:"卡号"`
	Format     string     `json:"format,omitempty" enum:"hex,decimal" default:"hex" doc:"卡号写法：hex 十六进制（默认）；decimal 十进制（会换算成十六进制）"`
	Mode       string     `json:"mode,omitempty" enum:"ic,id_card" default:"ic" doc:"ic模式或身份证"`
	ValidUntil *time.Time `json:"valid_until,omitempty" doc:"有效时间；不填为永久有效"`
}

type issueNormalInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	Body struct {
		IssueBody
		ResidentID int   `json:"resident_id" minimum:"1" doc:"业主"`
		UnitIDs    []int `json:"unit_ids,omitempty" maxItems:"500" doc:"可开的单元；不填为业主所在单元"`
	}
}

type issueSuperInput struct {
	CID  int `path:"cid" minimum:"1" doc:"小区编号"`
	Body IssueBody
}

type unitsInput struct {
	CardPath
	Body struct {
		UnitIDs []int `json:"unit_ids" minItems:"1" maxItems:"500" doc:"可开的单元"`
	}
}

type expiryInput struct {
	CardPath
	Body struct {
		ValidUntil *time.Time `json:"valid_until,omitempty" doc:"到期时间；不填为永久有效"`
	}
}

// Register adds 门禁卡列表 operations to api.
func (s *Service) Register(api huma.API) {
	one := func(ctx context.Context, cid int, c *ent.Card, err error) (*httpapi.Body[Card], error) {
		if err != nil {
			return nil, err
		}
		vs, err := s.views(ctx, cid, []*ent.Card{c})
		if err != nil {
			return nil, err
		}
		return httpapi.Reply(vs[0]), nil
	}
	huma.Register(api, httpapi.Op("list-cards", http.MethodGet, "/api/v1/communities/{cid}/cards", "门禁卡列表", auth.Needs(perm.CardsView),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *listCardsInput) (*httpapi.Body[httpapi.Page[Card]], error) {
			cs, total, err := s.ListCards(ctx, in.CID, in.CardFilter, in.Offset(), in.Size)
			if err != nil {
				return nil, err
			}
			vs, err := s.views(ctx, in.CID, cs)
			if err != nil {
				return nil, err
			}
			return httpapi.Reply(httpapi.Page[Card]{Items: vs, Total: total}), nil
		})
	huma.Register(api, httpapi.Op("issue-card", http.MethodPost, "/api/v1/communities/{cid}/cards", "发普通卡", auth.Needs(perm.CardsEdit, perm.ResidentsView),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusCreated)), func(ctx context.Context, in *issueNormalInput) (*httpapi.Body[Card], error) {
		b := in.Body
		c, err := s.IssueNormal(ctx, in.CID, CardInput{Number: b.Number, Format: cardno.Format(b.Format), Mode: b.Mode,
			ResidentID: b.ResidentID, ValidUntil: b.ValidUntil, UnitIDs: b.UnitIDs})
		return one(ctx, in.CID, c, err)
	})
	huma.Register(api, httpapi.Op("issue-super-card", http.MethodPost, "/api/v1/communities/{cid}/cards/super", "发超级卡", auth.Needs(perm.CardsEdit),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusCreated)), func(ctx context.Context, in *issueSuperInput) (*httpapi.Body[Card], error) {
		b := in.Body
		c, err := s.IssueSuper(ctx, in.CID, CardInput{Number: b.Number, Format: cardno.Format(b.Format), Mode: b.Mode, ValidUntil: b.ValidUntil})
		return one(ctx, in.CID, c, err)
	})
	huma.Register(api, httpapi.Op("set-card-units", http.MethodPut, "/api/v1/communities/{cid}/cards/{id}/units", "权限：设置可开的单元", auth.Needs(perm.CardsEdit),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *unitsInput) (*httpapi.Body[Card], error) {
			c, err := s.SetUnits(ctx, in.CID, in.ID, in.Body.UnitIDs)
			return one(ctx, in.CID, c, err)
		})
	huma.Register(api, httpapi.Op("set-card-expiry", http.MethodPut, "/api/v1/communities/{cid}/cards/{id}/expiry", "时效：设置到期时间", auth.Needs(perm.CardsEdit),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *expiryInput) (*httpapi.Body[Card], error) {
			c, err := s.SetExpiry(ctx, in.CID, in.ID, in.Body.ValidUntil)
			return one(ctx, in.CID, c, err)
		})
	huma.Register(api, httpapi.Op("disable-card", http.MethodPost, "/api/v1/communities/{cid}/cards/{id}/disable", "停用（停用该卡后，该卡将不能使用）", auth.Needs(perm.CardsEdit),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *CardPath) (*httpapi.Body[Card], error) {
			c, err := s.SetEnabled(ctx, in.CID, in.ID, false)
			return one(ctx, in.CID, c, err)
		})
	huma.Register(api, httpapi.Op("enable-card", http.MethodPost, "/api/v1/communities/{cid}/cards/{id}/enable", "启用", auth.Needs(perm.CardsEdit),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *CardPath) (*httpapi.Body[Card], error) {
			c, err := s.SetEnabled(ctx, in.CID, in.ID, true)
			return one(ctx, in.CID, c, err)
		})
	huma.Register(api, httpapi.Op("blank-card", http.MethodPost, "/api/v1/communities/{cid}/cards/{id}/blank", "恢复白卡", auth.Needs(perm.CardsEdit),
		httpapi.Tags("门禁信息管理")),
		func(ctx context.Context, in *CardPath) (*httpapi.Body[Card], error) {
			c, err := s.Blank(ctx, in.CID, in.ID)
			return one(ctx, in.CID, c, err)
		})
	huma.Register(api, httpapi.Op("delete-card", http.MethodDelete, "/api/v1/communities/{cid}/cards/{id}", "删除", auth.Needs(perm.CardsEdit),
		httpapi.Tags("门禁信息管理"),
		httpapi.Status(http.StatusNoContent)),
		func(ctx context.Context, in *CardPath) (*struct{}, error) {
			return nil, s.Delete(ctx, in.CID, in.ID)
		})
}
