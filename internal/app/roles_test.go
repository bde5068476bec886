package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"linli/internal/app"
	"linli/internal/apptest"
)

// staffClient has c's property admin create a staff account of c with
// role, signs it in and changes its initial password.
func staffClient(tb testing.TB, s *apptest.Server, c *apptest.Community, account, role string) *apptest.Client {
	tb.Helper()
	c.Manager.Must(201, "POST", c.Path("/staff"), map[string]any{"account": account, "name": "员工" + account, "phone": "13700001111", "role": role})
	cl := s.Client(account)
	cl.Must(200, "POST", "/api/v1/session", map[string]any{"account": account, "password": "123456"})
	cl.Must(200, "PUT", "/api/v1/me/password", map[string]any{"old_password": "123456", "new_password": apptest.StaffPassword})
	return cl
}

type me struct {
	StaffRole   string   `json:"staff_role"`
	RoleName    string   `json:"role_name"`
	Permissions []string `json:"permissions"`
}

func TestStaffRoles(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "阳光花园", "A")
		b := s.NewCommunity(t, op, "翠湖山庄", "B")

		// The operator's first admin holds every permission, 员工与角色管理 included.
		var m me
		a.Manager.Must(200, "GET", "/api/v1/me", nil).JSON(t, &m)
		if m.RoleName != "物业管理员" || m.StaffRole != "property_admin" || !slices.Contains(m.Permissions, "staff.manage") {
			t.Fatalf("admin's me = %+v", m)
		}

		guard := staffClient(t, s, a, "guarda", "guard")
		guard.Must(200, "GET", "/api/v1/me", nil).JSON(t, &m)
		if m.RoleName != "保安" || slices.Contains(m.Permissions, "residents.view") || !slices.Contains(m.Permissions, "doorcall.answer") {
			t.Fatalf("guard's me = %+v", m)
		}
		// The operator's 账号管理 names the role too.
		var accs struct {
			Items []struct {
				Account  string
				RoleName string `json:"role_name"`
			}
		}
		op.Must(200, "GET", fmt.Sprintf("/api/v1/accounts?community_id=%d", a.ID), nil).JSON(t, &accs)
		roles := map[string]string{}
		for _, it := range accs.Items {
			roles[it.Account] = it.RoleName
		}
		if roles["guarda"] != "保安" || roles[a.ManagerAccount] != "物业管理员" {
			t.Errorf("账号管理 shows roles %v", roles)
		}

		r := guard.Must(403, "GET", a.Path("/residents"), nil)
		if r.Detail() != "无权限：需要「业主·查看」权限" {
			t.Errorf("guard lists residents: %q", r.Detail())
		}
		guard.Must(200, "GET", a.Path("/rooms"), nil)
		// 工程 issues 超级卡 only: a normal card picks a resident, which needs
		// 业主·查看.
		eng := staffClient(t, s, a, "enga", "engineer")
		var owner struct{ ID int }
		a.Manager.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "持卡人", "role": "业主", "phone": "13700005555"}).JSON(t, &owner)
		if r := eng.Must(403, "POST", a.Path("/cards"), map[string]any{"number": "0C0C0C0E", "resident_id": owner.ID}); r.Detail() != "无权限：需要「业主·查看」权限" {
			t.Errorf("engineer issues a normal card: %q", r.Detail())
		}
		eng.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": "0C0C0C0F"})
		// The 小区密码 binds devices: the guard sees the community, not it;
		// the admin and an engineer (设备·编辑) do.
		for who, c := range map[string]*apptest.Client{"guard": guard, "admin": a.Manager, "engineer": eng} {
			var one struct {
				Name     string
				Password *string `json:"community_password"`
			}
			c.Must(200, "GET", a.Path(""), nil).JSON(t, &one)
			var list struct {
				Items []struct {
					Password *string `json:"community_password"`
				}
			}
			c.Must(200, "GET", "/api/v1/communities", nil).JSON(t, &list)
			shown := who != "guard"
			if one.Name == "" || (one.Password != nil) != shown || len(list.Items) != 1 || (list.Items[0].Password != nil) != shown {
				t.Errorf("%s: community password shown %v in the community, %+v in the list; want %v", who, one.Password != nil, list.Items, shown)
			}
		}
		guard.Must(200, "GET", a.Path("/records/calls"), nil)
		if r := guard.Must(403, "GET", a.Path("/records/calls/export.xlsx"), nil); r.Detail() != "无权限：需要「呼叫/开锁记录·导出」权限" {
			t.Errorf("guard exports calls: %q", r.Detail())
		}
		if r := guard.Must(403, "POST", a.Path("/staff"), map[string]any{"account": "sneaky", "name": "x", "phone": "13700002222", "role": "property_admin"}); r.Detail() != "无权限：需要「员工与角色管理」权限" {
			t.Errorf("guard creates staff: %q", r.Detail())
		}

		// The 无权限 page names whom to ask.
		var admins struct {
			Items []struct{ Name, Phone string }
		}
		guard.Must(200, "GET", a.Path("/admins"), nil).JSON(t, &admins)
		var names []string
		for _, it := range admins.Items {
			names = append(names, it.Name)
		}
		if !slices.Contains(names, "经理A") || slices.Contains(names, "员工guarda") {
			t.Errorf("admins of A = %+v", admins.Items)
		}

		// A role of the community's own, given to the guard, counts from the next request.
		var role struct {
			ID  int
			Key string
		}
		a.Manager.Must(201, "POST", a.Path("/roles"), map[string]any{"name": "值班保安", "permissions": []string{"residents.view", "records.view", "housing.view"}}).JSON(t, &role)
		if role.Key != fmt.Sprintf("custom:%d", role.ID) {
			t.Fatalf("role key %q", role.Key)
		}
		var guardID int
		var staff struct {
			Items []struct {
				ID       int
				Account  string
				RoleName string `json:"role_name"`
			}
		}
		a.Manager.Must(200, "GET", a.Path("/staff"), nil).JSON(t, &staff)
		for _, it := range staff.Items {
			if it.Account == "guarda" {
				guardID = it.ID
				if it.RoleName != "保安" {
					t.Errorf("staff list shows %q", it.RoleName)
				}
			}
		}
		if guardID == 0 {
			t.Fatalf("guard missing from the staff list: %+v", staff)
		}
		a.Manager.Must(200, "PUT", a.Path(fmt.Sprintf("/staff/%d/role", guardID)), map[string]any{"role": role.Key})
		guard.Must(200, "GET", a.Path("/residents"), nil)
		if r := guard.Must(403, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "新业主", "role": "业主"}); r.Detail() != "无权限：需要「业主·编辑」权限" {
			t.Errorf("guard creates a resident: %q", r.Detail())
		}
		// Taking a permission off the role takes it off the account.
		a.Manager.Must(200, "PATCH", a.Path(fmt.Sprintf("/roles/%d", role.ID)), map[string]any{"permissions": []string{"records.view"}})
		guard.Must(403, "GET", a.Path("/residents"), nil)
		// An operation open to every account.
		guard.Must(200, "GET", "/api/v1/communities", nil)
		// What a permission needs comes with it: 业主·编辑 alone is saved with
		// 业主·查看 and 房屋·查看 (the room pickers), so the guard can use it.
		var saved struct{ Permissions []string }
		a.Manager.Must(200, "PATCH", a.Path(fmt.Sprintf("/roles/%d", role.ID)), map[string]any{"permissions": []string{"residents.edit"}}).JSON(t, &saved)
		if got := strings.Join(saved.Permissions, ","); got != "housing.view,residents.view,residents.edit" {
			t.Errorf("role saved with %s", got)
		}
		guard.Must(200, "GET", a.Path("/tree"), nil)
		guard.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "新业主", "role": "业主", "phone": "13700004444"})
		a.Manager.Must(200, "PATCH", a.Path(fmt.Sprintf("/roles/%d", role.ID)), map[string]any{"permissions": []string{"records.view"}})

		// The role editor refuses what is not a role.
		a.Manager.Must(422, "POST", a.Path("/roles"), map[string]any{"name": "怪角色", "permissions": []string{"residents.fly"}})
		a.Manager.Must(422, "POST", a.Path("/roles"), map[string]any{"name": "保安", "permissions": []string{}})
		a.Manager.Must(422, "POST", a.Path("/roles"), map[string]any{"name": "值班保安"})
		a.Manager.Must(422, "POST", a.Path("/staff"), map[string]any{"account": "nobody", "name": "x", "phone": "13700003333", "role": "custom:99999"})
		if r := a.Manager.Must(409, "DELETE", a.Path(fmt.Sprintf("/roles/%d", role.ID)), nil); r.Detail() == "" {
			t.Error("deleting a role in use: no reason")
		}
		a.Manager.Must(409, "PUT", a.Path(fmt.Sprintf("/staff/%d/role", meID(t, a.Manager))), map[string]any{"role": "guard"})

		// Another community's admin sees nothing of A's roles or staff and cannot use A's roles.
		b.Manager.Must(404, "GET", a.Path("/roles"), nil)
		b.Manager.Must(404, "GET", a.Path("/staff"), nil)
		b.Manager.Must(404, "PUT", a.Path(fmt.Sprintf("/staff/%d/role", guardID)), map[string]any{"role": "guard"})
		b.Manager.Must(422, "POST", b.Path("/staff"), map[string]any{"account": "borrower", "name": "x", "phone": "13700004444", "role": role.Key})
		var rolesB struct{ Items []struct{ Name string } }
		b.Manager.Must(200, "GET", b.Path("/roles"), nil).JSON(t, &rolesB)
		for _, it := range rolesB.Items {
			if it.Name == "值班保安" {
				t.Error("B sees A's role")
			}
		}

		// Back to 保安, the role can go; deleting the account ends its session.
		a.Manager.Must(200, "PUT", a.Path(fmt.Sprintf("/staff/%d/role", guardID)), map[string]any{"role": "guard"})
		a.Manager.Must(204, "DELETE", a.Path(fmt.Sprintf("/roles/%d", role.ID)), nil)
		a.Manager.Must(204, "DELETE", a.Path(fmt.Sprintf("/staff/%d", guardID)), nil)
		guard.Must(401, "GET", "/api/v1/me", nil)
	})
}

func meID(tb testing.TB, c *apptest.Client) int {
	tb.Helper()
	var v struct{ ID int }
	c.Must(200, "GET", "/api/v1/me", nil).JSON(tb, &v)
	return v.ID
}

// TestEveryOperationDeclared keeps every console operation stating who may
// call it, so that none reaches a limited role by being forgotten.
func TestEveryOperationDeclared(t *testing.T) {
	t.Parallel()
	ops, err := app.UndeclaredOperations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) > 0 {
		t.Errorf("operations without auth.Needs, auth.Open or another access rule: %v", ops)
	}
}
