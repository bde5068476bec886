package apptest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Community is a community created by a fixture, with one area, building,
// unit and room, and its staff.
type Community struct {
	ID, AreaID, BuildingID, UnitID, RoomID int
	Name                                   string
	Secret                                 string  // a marker stored in the community, to detect leaks
	Manager                                *Client // property admin, password changed
	NewManager                             *Client // property admin still on the initial password 123456
	ManagerAccount                         string
}

// NewCommunity creates a community named name with a small housing tree and
// two managers, through the API as the operator op.
func (s *Server) NewCommunity(tb testing.TB, op *Client, name, tag string) *Community {
	tb.Helper()
	c := &Community{Name: name, Secret: "secret-" + tag}
	var created struct {
		ID int `json:"id"`
	}
	op.Must(http.StatusCreated, "POST", "/api/v1/communities", map[string]any{
		"name": name, "region_code": "440306", "address": "宝安大道" + tag + "号", "community_password": "pw" + tag + "x9",
	}).JSON(tb, &created)
	c.ID = created.ID
	base := fmt.Sprintf("/api/v1/communities/%d", c.ID)
	op.Must(http.StatusCreated, "POST", base+"/areas", map[string]any{"number": 1, "parking_lot_key": c.Secret}).JSON(tb, &created)
	c.AreaID = created.ID
	op.Must(http.StatusCreated, "POST", base+"/buildings", map[string]any{"area_id": c.AreaID, "number": 1}).JSON(tb, &created)
	c.BuildingID = created.ID
	op.Must(http.StatusCreated, "POST", base+"/units", map[string]any{"building_id": c.BuildingID, "number": 1, "device_count": 2}).JSON(tb, &created)
	c.UnitID = created.ID
	op.Must(http.StatusCreated, "POST", base+"/rooms", map[string]any{"unit_id": c.UnitID, "floor": 5, "number": 2}).JSON(tb, &created)
	c.RoomID = created.ID

	c.ManagerAccount = "mgr" + strings.ToLower(tag)
	op.Must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{
		"account": c.ManagerAccount, "name": "经理" + tag, "phone": "13800000000", "community_ids": []int{c.ID},
	})
	c.Manager = s.Client("manager " + tag)
	c.Manager.Must(http.StatusOK, "POST", "/api/v1/session", map[string]any{"account": c.ManagerAccount, "password": "123456"})
	c.Manager.Must(http.StatusOK, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": StaffPassword})

	op.Must(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{
		"account": "new" + strings.ToLower(tag), "name": "新人" + tag, "phone": "13900000000", "community_ids": []int{c.ID},
	})
	c.NewManager = s.Client("new manager " + tag)
	c.NewManager.Must(http.StatusOK, "POST", "/api/v1/session", map[string]any{"account": "new" + strings.ToLower(tag), "password": "123456"})
	return c
}

// Path returns the community's API path followed by rest.
func (c *Community) Path(rest string) string {
	return fmt.Sprintf("/api/v1/communities/%d%s", c.ID, rest)
}
