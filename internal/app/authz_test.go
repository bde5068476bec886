package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"linli/internal/actor"
	"linli/internal/apptest"
	"linli/internal/fakecam"
	"linli/internal/region"
	"linli/internal/storetest"
)

// access is who may call an operation.
type access int

const (
	public        access = iota // anyone
	anySession                  // any signed-in account, even before changing the initial password
	signedIn                    // any account that has changed its initial password
	communityA                  // staff of community A and operators; staff of B get 404
	operator                    // operators only
	deviceToken                 // a bound device with its bearer token (/device/v1 only)
	residentToken               // a resident signed in to the app with its bearer token (/app/v1 only)
)

// bearer names the matrix's actor that holds the token a device or resident
// operation takes; console operations take no token.
func (a access) bearer() string {
	switch a {
	case deviceToken:
		return "device"
	case residentToken:
		return "resident"
	}
	return ""
}

// world is the state the matrix runs in: two communities and every actor.
type world struct {
	s        *apptest.Server
	op       *apptest.Client
	a, b     *apptest.Community
	resident int    // a resident of A with an ID number and a face photo
	workbook []byte // A's template filled with one row
	token    string // A's public application link token
	appID    int    // a pending application of A with a photo
	serial   int
	device   int // a bound (offline) indoor monitor of A
	firmware int // firmware of model MATRIX-0
	record   int // an unlock record of A with a snapshot
	cam      *fakecam.Camera
	camera   int // a camera of A (the fake camera)
	// door is a door station of A's unit, the device actor; doorFirmware
	// is firmware of its model and adURL the picture it shows.
	door         credentials
	doorFirmware int
	adURL        string
	app          *apptest.Client // the resident actor: 甲业主 signed in to the app
}

// freshRole makes a role of A for a destructive call.
func (w *world) freshRole(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/roles"), map[string]any{"name": fmt.Sprintf("临时角色%d", w.next()), "permissions": []string{"housing.view"}}).JSON(tb, &v)
	return v.ID
}

// freshStaff makes a 保安 account of A for a destructive call.
func (w *world) freshStaff(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/staff"), map[string]any{"account": fmt.Sprintf("staff%d", w.next()), "name": "临时员工",
		"phone": "13700000001", "role": "guard"}).JSON(tb, &v)
	return v.ID
}

// freshCamera adds the fake camera to A under a new name.
func (w *world) freshCamera(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/cameras"), map[string]any{"name": fmt.Sprintf("摄像机%d", w.next()), "address": w.cam.Addr(),
		"username": w.cam.Username(), "password": w.cam.Password()}).JSON(tb, &v)
	return v.ID
}

func cameraPath(rest string) func(testing.TB, *world) string {
	return func(_ testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/cameras/%d%s", w.camera, rest)) }
}

// freshFirmware uploads firmware of a model of its own.
func (w *world) freshFirmware(tb testing.TB) int {
	tb.Helper()
	return w.uploadFirmware(tb, fmt.Sprintf("TMP-%d", w.next()))
}

// uploadFirmware uploads version 1.0 of model's firmware.
func (w *world) uploadFirmware(tb testing.TB, model string) int {
	tb.Helper()
	var v struct{ ID int }
	ct, body := multipartBody("fw.bin", []byte("image"), map[string]string{"model": model, "version": "1.0"})
	r := w.op.DoType("POST", "/api/v1/firmware", ct, body)
	if r.Status != 201 {
		tb.Fatalf("upload firmware: %d %s", r.Status, r.Body)
	}
	r.JSON(tb, &v)
	return v.ID
}

// freshApplication files an application to A. It is written straight into
// the store, so that the matrix does not run into the per-address limit of
// the public form (which has its own test).
func (w *world) freshApplication(tb testing.TB) int {
	tb.Helper()
	ctx := actor.AsSystem(context.Background())
	rm := w.s.App.Store().Room.GetX(ctx, w.a.RoomID)
	a := w.s.App.Store().Application.Create().SetCommunityID(w.a.ID).SetRoomID(rm.ID).
		SetAreaID(w.a.AreaID).SetBuildingID(w.a.BuildingID).SetUnitID(rm.UnitID).
		SetName("申请人").SetPhone(fmt.Sprintf("135%08d", w.next())).SetRole("家属").
		SetPhotos([]string{}).SaveX(ctx)
	return a.ID
}

// freshCard issues a super card in A.
func (w *world) freshCard(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/cards/super"), map[string]any{"number": fmt.Sprintf("AB%06X", w.next())}).JSON(tb, &v)
	return v.ID
}

// freshPass writes a visitor pass of 甲业主 straight into the store and
// returns its id.
func (w *world) freshPass(tb testing.TB) int {
	tb.Helper()
	ctx := actor.AsSystem(context.Background())
	rm := w.s.App.Store().Room.GetX(ctx, w.a.RoomID)
	n := w.next()
	p := w.s.App.Store().Pass.Create().SetCommunityID(w.a.ID).SetRoomID(rm.ID).SetUnitID(rm.UnitID).SetResidentID(w.resident).
		SetPhone("13912340001").SetVisitorName("矩阵访客").SetKind("visitor").SetValidFrom(time.Now()).
		SetValidTo(time.Now().Add(time.Hour)).SetMaxUses(1).SetPin(fmt.Sprintf("%06d", n)).
		SetQrToken(fmt.Sprintf("matrix-qr-%d", n)).SetShareToken(fmt.Sprintf("matrix-share-%d", n)).SaveX(ctx)
	return p.ID
}

func freshPassPath(rest string) func(testing.TB, *world) string {
	return func(tb testing.TB, w *world) string {
		return w.a.Path(fmt.Sprintf("/passes/%d%s", w.freshPass(tb), rest))
	}
}

func freshCardPath(rest string) func(testing.TB, *world) string {
	return func(tb testing.TB, w *world) string {
		return w.a.Path(fmt.Sprintf("/cards/%d%s", w.freshCard(tb), rest))
	}
}

// freshDevice binds an indoor monitor to a new room of A.
func (w *world) freshDevice(tb testing.TB) int {
	tb.Helper()
	room := w.freshRoom(tb)
	var v struct {
		DeviceID int `json:"device_id"`
	}
	w.s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{
		"community_id": w.a.ID, "community_password": "pwAx9", "serial": fmt.Sprintf("SN-%d", w.next()),
		"slot": map[string]any{"kind": "indoor", "room_id": room},
	}).JSON(tb, &v)
	return v.DeviceID
}

// freshInvitation writes a pending 业主邀请 to A's room straight into the
// store, as if the 业主 had sent it from the app.
func (w *world) freshInvitation(tb testing.TB) int {
	tb.Helper()
	ctx := actor.AsSystem(context.Background())
	v := w.s.App.Store().Invitation.Create().SetCommunityID(w.a.ID).SetRoomID(w.a.RoomID).SetInviterID(w.resident).
		SetInviterName("甲业主").SetPhone(fmt.Sprintf("136%08d", w.next())).SetName("被邀请人").SetRole("家属").SaveX(ctx)
	return v.ID
}

func freshInvitationPath(rest string) func(testing.TB, *world) string {
	return func(tb testing.TB, w *world) string {
		return w.a.Path(fmt.Sprintf("/invitations/%d%s", w.freshInvitation(tb), rest))
	}
}

func freshApplicationPath(rest string) func(testing.TB, *world) string {
	return func(tb testing.TB, w *world) string {
		return w.a.Path(fmt.Sprintf("/applications/%d%s", w.freshApplication(tb), rest))
	}
}

func publicPath(rest string) func(testing.TB, *world) string {
	return func(_ testing.TB, w *world) string { return "/app/v1/apply/" + w.token + rest }
}

// freshResident makes a resident of A's room (role 业主 or 家属) for a
// destructive call.
func (w *world) freshResident(tb testing.TB, role string) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/residents"), map[string]any{
		"room_id": w.a.RoomID, "name": fmt.Sprintf("临时%s%d", role, w.next()), "role": role,
	}).JSON(tb, &v)
	return v.ID
}

// residentPhone is the phone of 甲业主, the resident actor of the matrix.
const residentPhone = "13912340001"

// appRoomPath is an app path under the room of 甲业主.
func appRoomPath(rest string) func(testing.TB, *world) string {
	return func(_ testing.TB, w *world) string { return fmt.Sprintf("/app/v1/rooms/%d%s", w.a.RoomID, rest) }
}

// freshNotice sends a 小区通知 of A shown today.
func (w *world) freshNotice(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/notices"), map[string]any{"title": "临时", "content": "x", "show_from": chinaToday(), "show_to": chinaToday()}).JSON(tb, &v)
	return v.ID
}

func residentPath(rest string) func(testing.TB, *world) string {
	return func(_ testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/residents/%d%s", w.resident, rest)) }
}

func freshResidentPath(rest string) func(testing.TB, *world) string {
	return func(tb testing.TB, w *world) string {
		return w.a.Path(fmt.Sprintf("/residents/%d%s", w.freshResident(tb, "业主"), rest))
	}
}

func (w *world) next() int { w.serial++; return w.serial }

// freshArea makes an empty area in A for a destructive call.
func (w *world) freshArea(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/areas"), map[string]any{"number": 100 + w.next()}).JSON(tb, &v)
	return v.ID
}

func (w *world) freshBuilding(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/buildings"), map[string]any{"area_id": w.a.AreaID, "number": 100 + w.next()}).JSON(tb, &v)
	return v.ID
}

func (w *world) freshUnit(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", w.a.Path("/units"), map[string]any{"building_id": w.a.BuildingID, "number": 10 + w.next()%80, "device_count": 1}).JSON(tb, &v)
	return v.ID
}

func (w *world) freshRoom(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	n := w.next()
	w.op.Must(201, "POST", w.a.Path("/rooms"), map[string]any{"unit_id": w.a.UnitID, "floor": 50 + n/90, "number": 1 + n%90}).JSON(tb, &v)
	return v.ID
}

func (w *world) freshAccount(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", "/api/v1/accounts", map[string]any{
		"account": fmt.Sprintf("tmp%d", w.next()), "name": "临时", "phone": "13700000000", "community_ids": []int{w.a.ID},
	}).JSON(tb, &v)
	return v.ID
}

func (w *world) freshCommunity(tb testing.TB) int {
	tb.Helper()
	var v struct{ ID int }
	w.op.Must(201, "POST", "/api/v1/communities", map[string]any{
		"name": fmt.Sprintf("临时小区%d", w.next()), "region_code": "110101", "address": "东城区1号",
	}).JSON(tb, &v)
	return v.ID
}

// operation is one row of the authorization matrix.
type operation struct {
	id     string // OpenAPI operationId
	method string
	path   func(tb testing.TB, w *world) string
	body   func(w *world) any
	who    access
	ok     int // status for an actor that may call it
	// upload, if set, sends a multipart body instead of JSON.
	upload func(w *world) (contentType string, body []byte)
	// endsSession says the call ends the resident's app session: the
	// resident signs in again after it.
	endsSession bool
}

// chinaToday is today's date in the estates' time zone.
func chinaToday() string { return time.Now().In(region.Time).Format(time.DateOnly) }

func fixed(p string) func(testing.TB, *world) string {
	return func(testing.TB, *world) string { return p }
}

func inA(rest string) func(testing.TB, *world) string {
	return func(_ testing.TB, w *world) string { return w.a.Path(rest) }
}

func operations() []operation {
	return []operation{
		{id: "login", method: "POST", path: fixed("/api/v1/session"), who: public, ok: 401,
			body: func(*world) any { return map[string]any{"account": "admin", "password": "wrong-password"} }},
		{id: "get-me", method: "GET", path: fixed("/api/v1/me"), who: anySession, ok: 200},
		{id: "change-my-password", method: "PUT", path: fixed("/api/v1/me/password"), who: anySession, ok: 422,
			body: func(*world) any {
				// An empty new password is refused before the old one is
				// checked, so the matrix's many actors lock no account.
				return map[string]any{"old_password": "not-the-password", "new_password": ""}
			}},
		{id: "update-me", method: "PATCH", path: fixed("/api/v1/me"), who: signedIn, ok: 200,
			body: func(*world) any { return map[string]any{"name": "某某"} }},
		{id: "request-password-reset", method: "POST", path: fixed("/api/v1/password-resets"), who: public, ok: 202,
			body: func(w *world) any {
				return map[string]any{"account": fmt.Sprintf("forgot%d", w.next()), "method": "sms"}
			}},
		{id: "reset-password-by-code", method: "POST", path: fixed("/api/v1/password-resets/by-code"), who: public, ok: 422,
			body: func(w *world) any {
				return map[string]any{"account": w.a.ManagerAccount, "code": "000000", "new_password": "Another-Pass-9"}
			}},
		{id: "reset-password-by-link", method: "POST", path: fixed("/api/v1/password-resets/by-link"), who: public, ok: 422,
			body: func(*world) any { return map[string]any{"token": "no-such-link", "new_password": "Another-Pass-9"} }},
		{id: "send-contact-code", method: "POST", path: fixed("/api/v1/me/contact-codes"), who: signedIn, ok: 202,
			body: func(*world) any { return map[string]any{"kind": "email", "value": "new-address@example.com"} }},
		{id: "change-my-phone", method: "PUT", path: fixed("/api/v1/me/phone"), who: signedIn, ok: 422,
			body: func(*world) any {
				return map[string]any{"phone": "13700000001", "code": "000000", "password": "not-the-password"}
			}},
		{id: "change-my-email", method: "PUT", path: fixed("/api/v1/me/email"), who: signedIn, ok: 422,
			body: func(*world) any {
				return map[string]any{"email": "new-address@example.com", "code": "000000", "password": "not-the-password"}
			}},
		{id: "list-regions", method: "GET", path: fixed("/api/v1/regions"), who: signedIn, ok: 200},
		{id: "list-my-sessions", method: "GET", path: fixed("/api/v1/me/sessions"), who: signedIn, ok: 200},
		{id: "end-my-session", method: "DELETE", path: fixed("/api/v1/me/sessions/999999"), who: signedIn, ok: 404},
		{id: "end-my-other-sessions", method: "DELETE", path: fixed("/api/v1/me/sessions"), who: signedIn, ok: 200},
		{id: "get-my-two-factor", method: "GET", path: fixed("/api/v1/me/two-factor"), who: signedIn, ok: 200},
		{id: "set-my-login-check", method: "PUT", path: fixed("/api/v1/me/login-check"), who: signedIn, ok: 422,
			body: func(*world) any { return map[string]any{"enabled": true, "password": ""} }},
		{id: "start-totp", method: "POST", path: fixed("/api/v1/me/totp"), who: signedIn, ok: 200},
		{id: "confirm-totp", method: "PUT", path: fixed("/api/v1/me/totp"), who: signedIn, ok: 422,
			body: func(*world) any { return map[string]any{"code": "00000"} }},
		{id: "remove-totp", method: "POST", path: fixed("/api/v1/me/totp/remove"), who: signedIn, ok: 422,
			body: func(*world) any { return map[string]any{"password": ""} }},
		{id: "renew-recovery-codes", method: "POST", path: fixed("/api/v1/me/totp/recovery-codes"), who: signedIn, ok: 422,
			body: func(*world) any { return map[string]any{"password": ""} }},
		{id: "forget-my-devices", method: "DELETE", path: fixed("/api/v1/me/trusted-devices"), who: signedIn, ok: 204},
		{id: "send-login-code", method: "POST", path: fixed("/api/v1/session/code"), who: public, ok: 401,
			body: func(w *world) any {
				return map[string]any{"account": "no-such-account", "challenge": "no-such-challenge", "method": "sms"}
			}},
		{id: "verify-login", method: "POST", path: fixed("/api/v1/session/verify"), who: public, ok: 401,
			body: func(w *world) any {
				return map[string]any{"account": "no-such-account", "challenge": "no-such-challenge", "method": "totp", "code": "123456"}
			}},
		{id: "list-audit-log", method: "GET", path: fixed("/api/v1/audit-log"), who: signedIn, ok: 200},
		{id: "export-audit-log", method: "GET", path: fixed("/api/v1/audit-log/export.xlsx"), who: signedIn, ok: 200},
		{id: "list-communities", method: "GET", path: fixed("/api/v1/communities"), who: signedIn, ok: 200},
		{id: "create-community", method: "POST", path: fixed("/api/v1/communities"), who: operator, ok: 201,
			body: func(w *world) any {
				return map[string]any{"name": fmt.Sprintf("新小区%d", w.next()), "region_code": "440306", "address": "x路1号"}
			}},
		{id: "get-community", method: "GET", path: inA(""), who: communityA, ok: 200},
		{id: "update-community", method: "PATCH", path: inA(""), who: communityA, ok: 200,
			body: func(w *world) any { return map[string]any{"wall_station_count": 2 + w.next()%5} }},
		{id: "delete-community", method: "DELETE", who: operator, ok: 204,
			path: func(tb testing.TB, w *world) string {
				return fmt.Sprintf("/api/v1/communities/%d", w.freshCommunity(tb))
			}},
		{id: "list-accounts", method: "GET", path: fixed("/api/v1/accounts"), who: operator, ok: 200},
		{id: "create-account", method: "POST", path: fixed("/api/v1/accounts"), who: operator, ok: 201,
			body: func(w *world) any {
				return map[string]any{"account": fmt.Sprintf("acc%d", w.next()), "name": "某人", "phone": "13600000000", "community_ids": []int{w.a.ID}}
			}},
		{id: "reset-account-password", method: "POST", who: operator, ok: 204,
			path: func(tb testing.TB, w *world) string {
				return fmt.Sprintf("/api/v1/accounts/%d/password-reset", w.freshAccount(tb))
			}},
		{id: "set-account-disabled", method: "PUT", who: operator, ok: 200, body: func(*world) any { return map[string]any{"disabled": true} },
			path: func(tb testing.TB, w *world) string {
				return fmt.Sprintf("/api/v1/accounts/%d/disabled", w.freshAccount(tb))
			}},
		{id: "reset-account-two-factor", method: "DELETE", who: operator, ok: 204,
			path: func(tb testing.TB, w *world) string {
				return fmt.Sprintf("/api/v1/accounts/%d/two-factor", w.freshAccount(tb))
			}},
		{id: "delete-account", method: "DELETE", who: operator, ok: 204,
			path: func(tb testing.TB, w *world) string { return fmt.Sprintf("/api/v1/accounts/%d", w.freshAccount(tb)) }},
		{id: "get-housing-tree", method: "GET", path: inA("/tree"), who: communityA, ok: 200},
		{id: "list-areas", method: "GET", path: inA("/areas"), who: communityA, ok: 200},
		{id: "create-area", method: "POST", path: inA("/areas"), who: communityA, ok: 201,
			body: func(w *world) any { return map[string]any{"number": 500 + w.next()} }},
		{id: "update-area", method: "PATCH", who: communityA, ok: 200, body: func(*world) any { return map[string]any{"name": "改名区"} },
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/areas/%d", w.freshArea(tb))) }},
		{id: "delete-area", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/areas/%d", w.freshArea(tb))) }},
		{id: "list-buildings", method: "GET", path: inA("/buildings"), who: communityA, ok: 200},
		{id: "create-building", method: "POST", path: inA("/buildings"), who: communityA, ok: 201,
			body: func(w *world) any { return map[string]any{"area_id": w.a.AreaID, "number": 500 + w.next()} }},
		{id: "update-building", method: "PATCH", who: communityA, ok: 200, body: func(*world) any { return map[string]any{"name": "改名栋"} },
			path: func(tb testing.TB, w *world) string {
				return w.a.Path(fmt.Sprintf("/buildings/%d", w.freshBuilding(tb)))
			}},
		{id: "delete-building", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string {
				return w.a.Path(fmt.Sprintf("/buildings/%d", w.freshBuilding(tb)))
			}},
		{id: "list-units", method: "GET", path: inA("/units"), who: communityA, ok: 200},
		{id: "create-unit", method: "POST", path: inA("/units"), who: communityA, ok: 201,
			body: func(w *world) any {
				return map[string]any{"building_id": w.a.BuildingID, "number": 10 + w.next()%80, "device_count": 1}
			}},
		{id: "update-unit", method: "PATCH", who: communityA, ok: 200, body: func(*world) any { return map[string]any{"device_count": 3} },
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/units/%d", w.freshUnit(tb))) }},
		{id: "delete-unit", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/units/%d", w.freshUnit(tb))) }},
		{id: "list-rooms", method: "GET", path: inA("/rooms"), who: communityA, ok: 200},
		{id: "create-room", method: "POST", path: inA("/rooms"), who: communityA, ok: 201,
			body: func(w *world) any {
				n := w.next()
				return map[string]any{"unit_id": w.a.UnitID, "floor": 30 + n/90, "number": 1 + n%90}
			}},
		{id: "update-room", method: "PATCH", who: communityA, ok: 200,
			body: func(w *world) any { n := w.next(); return map[string]any{"floor": 70 + n/90, "number": 1 + n%90} },
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/rooms/%d", w.freshRoom(tb))) }},
		{id: "delete-room", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/rooms/%d", w.freshRoom(tb))) }},
		{id: "batch-create-rooms", method: "POST", who: communityA, ok: 201,
			body: func(*world) any { return map[string]any{"floors": 2, "rooms_per_floor": 2} },
			path: func(tb testing.TB, w *world) string {
				return w.a.Path(fmt.Sprintf("/units/%d/rooms/batch", w.freshUnit(tb)))
			}},
		{id: "list-residents", method: "GET", path: inA("/residents"), who: communityA, ok: 200},
		{id: "create-resident", method: "POST", path: inA("/residents"), who: communityA, ok: 201,
			body: func(w *world) any {
				return map[string]any{"room_id": w.a.RoomID, "name": fmt.Sprintf("新业主%d", w.next()), "role": "家属"}
			}},
		{id: "get-resident", method: "GET", path: residentPath(""), who: communityA, ok: 200},
		{id: "update-resident", method: "PATCH", path: freshResidentPath(""), who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"address": "新地址"} }},
		{id: "delete-resident", method: "DELETE", path: freshResidentPath(""), who: communityA, ok: 204},
		{id: "reveal-resident-id-number", method: "POST", path: residentPath("/id-number/reveal"), who: communityA, ok: 200},
		{id: "set-resident-permissions", method: "PATCH", path: freshResidentPath("/permissions"), who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"app_call": false} }},
		{id: "upload-resident-face", method: "PUT", path: freshResidentPath("/face"), who: communityA, ok: 200,
			upload: func(*world) (string, []byte) { return faceForm(true) }},
		{id: "set-resident-face", method: "PATCH", path: residentPath("/face"), who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"permanent": true} }},
		{id: "get-resident-face-photo", method: "GET", path: residentPath("/face.jpg"), who: communityA, ok: 200},
		{id: "delete-resident-face", method: "DELETE", path: freshResidentPath("/face"), who: communityA, ok: 204},
		{id: "export-resident-template", method: "GET", path: inA("/residents/template.xlsx"), who: communityA, ok: 200},
		{id: "export-residents", method: "GET", path: inA("/residents/export.xlsx"), who: communityA, ok: 200},
		{id: "export-residents-full", method: "GET", path: inA("/residents/export-full.xlsx"), who: communityA, ok: 200},
		{id: "import-residents", method: "POST", path: inA("/residents/import"), who: communityA, ok: 200,
			upload: func(w *world) (string, []byte) { return multipartBody("residents.xlsx", w.workbook, nil) }},
		{id: "get-application-link", method: "GET", path: inA("/application-link"), who: communityA, ok: 200},
		{id: "get-application-qr", method: "GET", path: inA("/application-qr.png"), who: communityA, ok: 200},
		{id: "list-applications", method: "GET", path: inA("/applications"), who: communityA, ok: 200},
		{id: "get-application", method: "GET", who: communityA, ok: 200,
			path: func(_ testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/applications/%d", w.appID)) }},
		{id: "get-application-photo", method: "GET", who: communityA, ok: 200,
			path: func(_ testing.TB, w *world) string {
				return w.a.Path(fmt.Sprintf("/applications/%d/photos/1", w.appID))
			}},
		{id: "approve-application", method: "POST", path: freshApplicationPath("/approve"), who: communityA, ok: 200},
		{id: "reject-application", method: "POST", path: freshApplicationPath("/reject"), who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"reason": "资料不全"} }},
		{id: "delete-application", method: "DELETE", path: freshApplicationPath(""), who: communityA, ok: 204},
		{id: "public-application-form", method: "GET", path: publicPath(""), who: public, ok: 200},
		{id: "public-application-rooms", method: "GET", who: public, ok: 200,
			path: func(_ testing.TB, w *world) string {
				return fmt.Sprintf("/app/v1/apply/%s/rooms?unit_id=%d", w.token, w.a.UnitID)
			}},
		{id: "public-application-status", method: "GET", path: publicPath("/status?phone=13912340001"), who: public, ok: 200},
		{id: "public-submit-application", method: "POST", path: publicPath(""), who: public, ok: 201,
			upload: func(w *world) (string, []byte) {
				return applicationForm(w.a.RoomID, "公开申请", fmt.Sprintf("134%08d", w.next()), 0)
			}},
		{id: "list-cards", method: "GET", path: inA("/cards"), who: communityA, ok: 200},
		{id: "issue-card", method: "POST", path: inA("/cards"), who: communityA, ok: 201,
			body: func(w *world) any {
				return map[string]any{"number": fmt.Sprintf("CD%06X", w.next()), "resident_id": w.resident}
			}},
		{id: "issue-super-card", method: "POST", path: inA("/cards/super"), who: communityA, ok: 201,
			body: func(w *world) any { return map[string]any{"number": fmt.Sprintf("EF%06X", w.next())} }},
		{id: "set-card-units", method: "PUT", path: freshCardPath("/units"), who: communityA, ok: 422,
			body: func(w *world) any { return map[string]any{"unit_ids": []int{w.a.UnitID}} }}, // super cards have no units: refused after the access check
		{id: "set-card-expiry", method: "PUT", path: freshCardPath("/expiry"), who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"valid_until": "2099-01-01T00:00:00Z"} }},
		{id: "disable-card", method: "POST", path: freshCardPath("/disable"), who: communityA, ok: 200},
		{id: "enable-card", method: "POST", path: freshCardPath("/enable"), who: communityA, ok: 200},
		{id: "blank-card", method: "POST", path: freshCardPath("/blank"), who: communityA, ok: 200},
		{id: "delete-card", method: "DELETE", path: freshCardPath(""), who: communityA, ok: 204},
		{id: "list-devices", method: "GET", path: inA("/devices"), who: communityA, ok: 200},
		{id: "unbind-device", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/devices/%d", w.freshDevice(tb))) }},
		{id: "device-bind", method: "POST", path: fixed("/device/v1/bind"), who: public, ok: 200,
			body: func(w *world) any {
				return map[string]any{"community_id": w.a.ID, "community_password": "pwAx9", "serial": "SN-WALL-1",
					"slot": map[string]any{"kind": "wall", "index": 1}}
			}},
		{id: "upgrade-devices", method: "POST", path: inA("/devices/upgrade"), who: communityA, ok: 409, // the device is offline: refused after the access check
			body: func(w *world) any {
				return map[string]any{"device_ids": []int{w.device}, "firmware_id": w.firmware}
			}},
		{id: "list-firmware", method: "GET", path: fixed("/api/v1/firmware"), who: signedIn, ok: 200},
		{id: "upload-firmware", method: "POST", path: fixed("/api/v1/firmware"), who: operator, ok: 201,
			upload: func(w *world) (string, []byte) {
				return multipartBody("fw.bin", []byte("firmware image"), map[string]string{"model": "MATRIX-1", "version": fmt.Sprintf("1.%d", w.next())})
			}},
		{id: "delete-firmware", method: "DELETE", who: operator, ok: 204,
			path: func(tb testing.TB, w *world) string { return fmt.Sprintf("/api/v1/firmware/%d", w.freshFirmware(tb)) }},
		{id: "device-sync", method: "GET", path: fixed("/device/v1/sync?since=0"), who: deviceToken, ok: 200},
		{id: "device-download-firmware", method: "GET", who: deviceToken, ok: 200,
			path: func(_ testing.TB, w *world) string { return fmt.Sprintf("/device/v1/firmware/%d", w.doorFirmware) }},
		{id: "device-report-event", method: "POST", path: fixed("/device/v1/events"), who: deviceToken, ok: 201,
			upload: func(w *world) (string, []byte) {
				return eventForm(map[string]string{"event_id": fmt.Sprintf("m-%d", w.next()), "type": "call", "time": "2026-01-28T16:43:01+08:00"}, nil)
			}},
		{id: "list-notices", method: "GET", path: inA("/notices"), who: communityA, ok: 200},
		{id: "list-room-notices", method: "GET", path: inA("/room-notices"), who: communityA, ok: 200},
		{id: "send-notice", method: "POST", path: inA("/notices"), who: communityA, ok: 201,
			body: func(*world) any {
				return map[string]any{"title": "停水通知", "content": "明天停水", "show_from": chinaToday(), "show_to": chinaToday()}
			}},
		{id: "send-room-notice", method: "POST", path: inA("/room-notices"), who: communityA, ok: 201,
			body: func(w *world) any {
				return map[string]any{"title": "缴费", "content": "请缴费", "room_ids": []int{w.a.RoomID}}
			}},
		{id: "delete-notice", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/notices/%d", w.freshNotice(tb))) }},
		{id: "app-send-code", method: "POST", path: fixed("/app/v1/sms-codes"), who: public, ok: 422,
			body: func(*world) any { return map[string]any{"phone": "12345"} }},
		{id: "app-sign-in", method: "POST", path: fixed("/app/v1/session"), who: public, ok: 401,
			body: func(*world) any { return map[string]any{"phone": "13912340001", "code": "000000"} }},
		{id: "app-list-notices", method: "GET", path: fixed("/app/v1/notices"), who: residentToken, ok: 200},
		{id: "app-read-notice", method: "POST", who: residentToken, ok: 204,
			path: func(tb testing.TB, w *world) string { return fmt.Sprintf("/app/v1/notices/%d/read", w.freshNotice(tb)) }},
		{id: "app-sign-out", method: "DELETE", path: fixed("/app/v1/session"), who: residentToken, ok: 204, endsSession: true},
		{id: "app-get-sip", method: "GET", path: fixed("/app/v1/sip"), who: residentToken, ok: 200},
		{id: "app-webcall-ticket", method: "POST", path: fixed("/app/v1/webcall/ticket"), who: residentToken, ok: 200,
			body: func(*world) any { return map[string]any{} }},
		{id: "app-webcall-stations", method: "GET", path: fixed("/app/v1/webcall/stations"), who: residentToken, ok: 200},
		{id: "webcall-staff-ticket", method: "POST", path: fixed("/api/v1/webcall/ticket"), who: communityA, ok: 200,
			body: func(w *world) any { return map[string]any{"community_id": w.a.ID} }},
		// The residents' own objects (TestAppDoorsAuthz checks residents of
		// another community).
		{id: "app-me", method: "GET", path: fixed("/app/v1/me"), who: residentToken, ok: 200},
		{id: "app-list-sessions", method: "GET", path: fixed("/app/v1/sessions"), who: residentToken, ok: 200},
		{id: "app-end-session", method: "DELETE", who: residentToken, ok: 204,
			path: func(tb testing.TB, w *world) string {
				id, _ := openAppSession(tb, w.s, residentPhone, "另一台手机")
				return fmt.Sprintf("/app/v1/sessions/%d", id)
			}},
		{id: "app-end-all-sessions", method: "DELETE", path: fixed("/app/v1/sessions"), who: residentToken, ok: 204, endsSession: true},
		{id: "app-set-push-token", method: "PUT", path: fixed("/app/v1/push-token"), who: residentToken, ok: 204,
			body: func(*world) any { return map[string]any{"platform": "log", "token": "t"} }},
		{id: "app-list-doors", method: "GET", path: fixed("/app/v1/doors"), who: residentToken, ok: 200},
		{id: "app-open-door", method: "POST", who: residentToken, ok: 409,
			path: func(_ testing.TB, w *world) string { return fmt.Sprintf("/app/v1/doors/%d/open", w.door.DeviceID) }},
		{id: "app-list-calls", method: "GET", path: fixed("/app/v1/calls"), who: residentToken, ok: 200},
		{id: "app-call-snapshot", method: "GET", path: fixed("/app/v1/calls/1/snapshot"), who: residentToken, ok: 404},
		{id: "app-see-calls", method: "POST", path: fixed("/app/v1/calls/seen"), who: residentToken, ok: 204},
		{id: "app-get-dnd", method: "GET", path: fixed("/app/v1/dnd"), who: residentToken, ok: 200},
		{id: "app-set-dnd", method: "PUT", path: fixed("/app/v1/dnd"), who: residentToken, ok: 200,
			body: func(*world) any { return map[string]any{"on": true, "schedule_enabled": false, "schedule": []any{}} }},
		{id: "app-create-pass", method: "POST", path: fixed("/app/v1/passes"), who: residentToken, ok: 201,
			body: func(w *world) any {
				return map[string]any{"room_id": w.a.RoomID, "visitor_name": "访客", "kind": "delivery"}
			}},
		{id: "app-list-passes", method: "GET", path: fixed("/app/v1/passes"), who: residentToken, ok: 200},
		{id: "app-get-pass", method: "GET", who: residentToken, ok: 200,
			path: func(tb testing.TB, w *world) string { return fmt.Sprintf("/app/v1/passes/%d", w.freshPass(tb)) }},
		{id: "app-revoke-pass", method: "DELETE", who: residentToken, ok: 204,
			path: func(tb testing.TB, w *world) string { return fmt.Sprintf("/app/v1/passes/%d", w.freshPass(tb)) }},
		{id: "app-get-pass-share", method: "GET", path: fixed("/app/v1/pass-shares/no-such-share-token"), who: public, ok: 404},
		{id: "app-get-pass-share-qr", method: "GET", path: fixed("/app/v1/pass-shares/no-such-share-token/qr.png"), who: public, ok: 404},
		{id: "list-passes", method: "GET", path: inA("/passes?status=有效"), who: communityA, ok: 200},
		{id: "revoke-pass", method: "POST", path: freshPassPath("/revoke"), who: communityA, ok: 200},
		{id: "app-list-members", method: "GET", path: appRoomPath("/members"), who: residentToken, ok: 200},
		{id: "app-invite-member", method: "POST", path: appRoomPath("/invitations"), who: residentToken, ok: 201,
			body: func(*world) any { return map[string]any{"phone": "13612340001", "name": "家人", "role": "家属"} }},
		{id: "app-withdraw-invitation", method: "DELETE", who: residentToken, ok: 204,
			path: func(tb testing.TB, w *world) string {
				return appRoomPath(fmt.Sprintf("/invitations/%d", w.freshInvitation(tb)))(tb, w)
			}},
		{id: "app-remove-member", method: "DELETE", who: residentToken, ok: 204,
			path: func(tb testing.TB, w *world) string {
				return appRoomPath(fmt.Sprintf("/members/%d", w.freshResident(tb, "家属")))(tb, w)
			}},
		{id: "app-get-face", method: "GET", path: fixed("/app/v1/face"), who: residentToken, ok: 200},
		{id: "app-upload-face", method: "PUT", path: fixed("/app/v1/face"), who: residentToken, ok: 204,
			upload: func(*world) (string, []byte) {
				return multipartFile("photo", "me.jpg", jpegBytes(300, 400), map[string]string{"consent_version": "2026-12-01"})
			}},
		{id: "app-get-face-photo", method: "GET", path: fixed("/app/v1/face/photo"), who: residentToken, ok: 200},
		{id: "app-withdraw-face", method: "DELETE", path: fixed("/app/v1/face"), who: residentToken, ok: 204},
		{id: "list-invitations", method: "GET", path: inA("/invitations?status=pending"), who: communityA, ok: 200},
		{id: "approve-invitation", method: "POST", path: freshInvitationPath("/approve"), who: communityA, ok: 200},
		{id: "reject-invitation", method: "POST", path: freshInvitationPath("/reject"), who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"reason": "请到物业登记"} }},
		{id: "list-ads", method: "GET", path: inA("/ads"), who: communityA, ok: 200},
		{id: "put-ad", method: "PUT", path: inA("/ads/landscape/2"), who: communityA, ok: 200,
			upload: func(*world) (string, []byte) { return adForm("ad.jpg", pictureJPEG(320, 200), false) }},
		{id: "delete-ad", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string {
				ct, body := adForm("ad.jpg", pictureJPEG(320, 200), false)
				if r := w.op.DoType("PUT", w.a.Path("/ads/landscape/3"), ct, body); r.Status != 200 {
					tb.Fatalf("put ad: %d %s", r.Status, r.Body)
				}
				return w.a.Path("/ads/landscape/3")
			}},
		{id: "get-ad-image", method: "GET", path: inA("/ads/portrait/4/image"), who: communityA, ok: 200},
		{id: "set-ad-targets", method: "PUT", path: inA("/ads/portrait/targets"), who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"device_ids": []int{}} }},
		{id: "device-get-ad", method: "GET", path: func(_ testing.TB, w *world) string { return w.adURL }, who: deviceToken, ok: 200},
		{id: "list-calls", method: "GET", path: inA("/records/calls?result=missed"), who: communityA, ok: 200},
		{id: "list-unlocks", method: "GET", path: inA("/records/unlocks?unlock_type=card"), who: communityA, ok: 200},
		{id: "export-calls", method: "GET", path: inA("/records/calls/export.xlsx"), who: communityA, ok: 200},
		{id: "export-unlocks", method: "GET", path: inA("/records/unlocks/export.xlsx"), who: communityA, ok: 200},
		{id: "get-record-snapshot", method: "GET", who: communityA, ok: 200,
			path: func(_ testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/records/%d/snapshot", w.record)) }},
		// No upgrade was sent to the device: refused after the access check.
		{id: "device-report-upgrade", method: "POST", path: fixed("/device/v1/upgrade"), who: deviceToken, ok: 409,
			body: func(w *world) any { return map[string]any{"firmware_id": w.doorFirmware, "state": "failed"} }},
		{id: "list-cameras", method: "GET", path: inA("/cameras"), who: communityA, ok: 200},
		{id: "create-camera", method: "POST", path: inA("/cameras"), who: communityA, ok: 201,
			body: func(w *world) any {
				return map[string]any{"name": fmt.Sprintf("新摄像机%d", w.next()), "address": w.cam.Addr(), "username": w.cam.Username(), "password": w.cam.Password()}
			}},
		{id: "get-camera", method: "GET", path: cameraPath(""), who: communityA, ok: 200},
		{id: "update-camera", method: "PATCH", path: cameraPath(""), who: communityA, ok: 200,
			body: func(w *world) any { return map[string]any{"name": fmt.Sprintf("改名摄像机%d", w.next())} }},
		{id: "refresh-camera", method: "POST", path: cameraPath("/refresh"), who: communityA, ok: 200},
		{id: "delete-camera", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/cameras/%d", w.freshCamera(tb))) }},
		{id: "get-camera-snapshot", method: "GET", path: cameraPath("/snapshot.jpg"), who: communityA, ok: 200},
		// A malformed offer is refused after the access check.
		{id: "start-camera-live", method: "POST", path: cameraPath("/live"), who: communityA, ok: 422,
			body: func(*world) any { return map[string]any{"sdp": "not an offer"} }},
		{id: "stop-camera-live", method: "DELETE", path: cameraPath("/live/no-such-session"), who: communityA, ok: 404},
		{id: "list-permissions", method: "GET", path: fixed("/api/v1/permissions"), who: signedIn, ok: 200},
		{id: "list-community-admins", method: "GET", path: inA("/admins"), who: communityA, ok: 200},
		{id: "list-roles", method: "GET", path: inA("/roles"), who: communityA, ok: 200},
		{id: "create-role", method: "POST", path: inA("/roles"), who: communityA, ok: 201,
			body: func(w *world) any {
				return map[string]any{"name": fmt.Sprintf("值班%d", w.next()), "permissions": []string{"records.view", "doorcall.answer"}}
			}},
		{id: "update-role", method: "PATCH", who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"permissions": []string{"records.view"}} },
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/roles/%d", w.freshRole(tb))) }},
		{id: "delete-role", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/roles/%d", w.freshRole(tb))) }},
		{id: "list-staff", method: "GET", path: inA("/staff"), who: communityA, ok: 200},
		{id: "create-staff", method: "POST", path: inA("/staff"), who: communityA, ok: 201,
			body: func(w *world) any {
				return map[string]any{"account": fmt.Sprintf("newstaff%d", w.next()), "name": "新员工", "phone": "13700000002", "role": "engineer"}
			}},
		{id: "set-staff-role", method: "PUT", who: communityA, ok: 200,
			body: func(*world) any { return map[string]any{"role": "customer_service"} },
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/staff/%d/role", w.freshStaff(tb))) }},
		{id: "delete-staff", method: "DELETE", who: communityA, ok: 204,
			path: func(tb testing.TB, w *world) string { return w.a.Path(fmt.Sprintf("/staff/%d", w.freshStaff(tb))) }},
		// Logout is last: it ends each actor's session.
		{id: "logout", method: "DELETE", path: fixed("/api/v1/session"), who: public, ok: 204},
	}
}

// guardMay lists the console operations the built-in role 保安 may call
// beyond those open to every account: 小区信息·查看, 房屋·查看,
// 呼叫/开锁记录·查看, 访客通行·查看, 设备·查看 (cameras, live view) and 门口呼叫.
// It is written out rather than derived from the operations' declarations,
// so that a wrong declaration fails the matrix.
var guardMay = map[string]bool{
	"update-me": true, "list-regions": true, "list-communities": true, "list-permissions": true,
	"get-community": true, "get-housing-tree": true, "list-areas": true, "list-buildings": true, "list-units": true, "list-rooms": true,
	"list-calls": true, "list-unlocks": true, "get-record-snapshot": true, "list-passes": true, "webcall-staff-ticket": true,
	"list-devices": true, "list-cameras": true, "get-camera": true, "refresh-camera": true, "get-camera-snapshot": true,
	"start-camera-live": true, "stop-camera-live": true, "list-community-admins": true,
	// Their own account: contact details and signed-in browsers.
	"send-contact-code": true, "change-my-phone": true, "change-my-email": true,
	"list-my-sessions": true, "end-my-session": true, "end-my-other-sessions": true,
	"get-my-two-factor": true, "set-my-login-check": true, "start-totp": true, "confirm-totp": true,
	"remove-totp": true, "renew-recovery-codes": true, "forget-my-devices": true,
}

// expected returns the status actor should get for an operation.
func expected(o operation, actor string) int {
	switch o.who {
	case public:
		return o.ok
	case deviceToken, residentToken:
		if actor == o.who.bearer() {
			return o.ok
		}
		return 401
	}
	if actor == "device" || actor == "resident" {
		actor = "anonymous" // a bearer token is no console session
	}
	switch o.who {
	case anySession:
		if actor == "anonymous" {
			return 401
		}
		return o.ok
	}
	switch actor {
	case "guard A":
		if guardMay[o.id] {
			return o.ok
		}
		return 403
	case "anonymous":
		return 401
	case "new manager A":
		return 403
	case "operator":
		return o.ok
	case "manager A":
		if o.who == operator {
			return 403
		}
		return o.ok
	case "manager B":
		switch o.who {
		case operator:
			return 403
		case communityA:
			return 404
		}
		return o.ok
	}
	panic("unknown actor " + actor)
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel() // the longest test of the package: one server per backend, side by side
			s := apptest.Start(t, b)
			op := s.Operator()
			w := &world{s: s, op: op}
			w.a = s.NewCommunity(t, op, "阳光花园", "A")
			w.b = s.NewCommunity(t, op, "翠湖山庄", "B")
			var res struct{ ID int }
			op.Must(201, "POST", w.a.Path("/residents"), map[string]any{
				"room_id": w.a.RoomID, "name": "甲业主", "role": "业主", "phone": "13912340001", "id_number": testIDNumber,
			}).JSON(t, &res)
			w.resident = res.ID
			w.workbook = fillTemplate(t, op, w.a, [][]string{{"0502", "表格业主", "13912349999"}})
			w.token = applyToken(t, op, w.a)
			ct, body := applicationForm(w.a.RoomID, "带照片的申请", "13312340001", 1)
			var filed struct{ ID int }
			s.Client("applicant").DoType("POST", "/app/v1/apply/"+w.token, ct, body).JSON(t, &filed)
			w.appID = filed.ID
			ct, data := faceForm(true)
			if r := op.DoType("PUT", w.a.Path(fmt.Sprintf("/residents/%d/face", w.resident)), ct, data); r.Status != 200 {
				t.Fatalf("upload face: %d %s", r.Status, r.Body)
			}
			w.device = w.freshDevice(t)
			w.firmware = w.freshFirmware(t)
			s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": w.a.ID, "community_password": "pwAx9",
				"serial": "SN-MATRIX-DOOR", "model": "MATRIX-DOOR", "orientation": "portrait", "slot": map[string]any{"kind": "door", "unit_id": w.a.UnitID, "index": 1}}).JSON(t, &w.door)
			w.doorFirmware = w.uploadFirmware(t, "MATRIX-DOOR")
			var stored struct{ ID int }
			postEvent(s, w.door.Token, map[string]string{"event_id": "m-0", "type": "unlock", "unlock_type": "card", "card": "0A0B0C0D",
				"time": "2026-01-28T16:53:01+08:00"}, snapshotJPEG(64, 48)).JSON(t, &stored)
			w.record = stored.ID
			if ct, body := adForm("ad.jpg", pictureJPEG(200, 320), false); op.DoType("PUT", w.a.Path("/ads/portrait/4"), ct, body).Status != 200 {
				t.Fatal("put the portrait ad")
			}
			for _, u := range deviceSync(t, s, w.door.Token, 0).Upserts {
				if u.Kind == "ad" {
					w.adURL = u.URL
				}
			}
			if w.adURL == "" {
				t.Fatal("the door station shows no ad")
			}
			dev := s.Client("device")
			dev.Bearer = w.door.Token
			w.app = s.Client("resident")
			w.app.Bearer = strings.TrimPrefix(appSignInAs(t, s, residentPhone, "矩阵手机")["Authorization"], "Bearer ")
			cam, err := fakecam.Start(fakecam.Config{Name: "MATRIX"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cam.Close)
			w.cam = cam
			w.camera = w.freshCamera(t)
			guard := staffClient(t, s, w.a, "guarda", "guard")
			guard.Name = "guard A"
			actors := []*apptest.Client{s.Client("anonymous"), w.a.NewManager, w.b.Manager, guard, w.a.Manager, dev, w.app, op}
			w.a.NewManager.Name, w.b.Manager.Name, w.a.Manager.Name = "new manager A", "manager B", "manager A"

			ops := operations()
			checkCoverage(t, s, ops)
			for _, o := range ops {
				for i, c := range actors {
					path := o.path(t, w)
					if i == 0 {
						checkScope(t, o, path)
					}
					var body any
					if o.body != nil {
						body = o.body(w)
					}
					want := expected(o, c.Name)
					before := snapshot(t, w)
					var r apptest.Response
					if o.upload != nil {
						ct, data := o.upload(w)
						r = c.DoType(o.method, path, ct, data)
					} else {
						r = c.Do(o.method, path, body)
					}
					if r.Status != want {
						t.Errorf("%s as %s: %s %s = %d %s, want %d", o.id, c.Name, o.method, path, r.Status, r.Body, want)
					}
					if o.endsSession && c == w.app {
						_, w.app.Bearer = openAppSession(t, s, residentPhone, "矩阵手机")
					}
					if r.Status >= 400 && r.Status != 401 || r.Status == 401 && o.id != "login" {
						if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
							t.Errorf("%s as %s: error content type %q", o.id, c.Name, ct)
						}
						if r.Detail() == "" || !hasHan(r.Detail()) {
							t.Errorf("%s as %s: error without a Chinese detail: %s", o.id, c.Name, r.Body)
						}
					}
					if c.Name == "guard A" && want == 403 && o.who != operator && !strings.HasPrefix(r.Detail(), "无权限：需要「") {
						t.Errorf("%s as guard A: detail %q does not name the missing permission", o.id, r.Detail())
					}
					if c.Name == "manager B" && o.who != public {
						for _, leak := range []string{w.a.Name, w.a.Secret, "pwAx9", w.a.ManagerAccount, "甲业主", "13912340001", testIDNumber[:10]} {
							if strings.Contains(string(r.Body), leak) {
								t.Errorf("%s as manager B: body leaks %q of community A: %s", o.id, leak, r.Body)
							}
						}
					}
					if want >= 400 && o.method != "GET" && o.id != "login" && o.id != "change-my-password" {
						if after := snapshot(t, w); after != before {
							t.Errorf("%s as %s was refused but changed data:\nbefore %s\nafter  %s", o.id, c.Name, before, after)
						}
					}
				}
			}
		})
	}
}

// checkScope fails an operation whose path is not where its access level
// belongs: device tokens open /device/v1 only, resident tokens /app/v1 only,
// console sessions /api/v1 only. So a row that lets a token into another
// API fails, whatever the code declares. The token of a device or resident
// operation must pass the gate.
func checkScope(t *testing.T, o operation, path string) {
	t.Helper()
	prefix := "/api/v1/"
	switch o.who {
	case public:
		return
	case deviceToken:
		prefix = "/device/v1/"
	case residentToken:
		prefix = "/app/v1/"
	}
	if o.who.bearer() != "" && (o.ok == 401 || o.ok == 403) {
		t.Errorf("%s: ok %d, but the %s's token must pass the gate", o.id, o.ok, o.who.bearer())
	}
	if !strings.HasPrefix(path, prefix) {
		t.Errorf("%s: %s is outside %s, where its callers belong", o.id, path, prefix)
	}
}

// snapshot is what a refused request must leave unchanged.
func snapshot(t *testing.T, w *world) string {
	t.Helper()
	var sb strings.Builder
	for _, p := range []string{w.a.Path(""), w.a.Path("/tree"), w.a.Path("/rooms?size=100"), w.a.Path("/residents?size=100"),
		"/api/v1/accounts?size=100", "/api/v1/communities?size=100"} {
		r := w.op.Must(200, "GET", p, nil)
		sb.Write(r.Body)
	}
	return sb.String()
}

func checkCoverage(t *testing.T, s *apptest.Server, ops []operation) {
	t.Helper()
	r := s.Client("docs").Must(200, "GET", "/api/openapi.json", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, o := range ops {
		covered[o.id] = true
	}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if !covered[op.OperationID] {
				t.Errorf("%s %s (%s) is not in the authorization matrix", strings.ToUpper(method), path, op.OperationID)
			}
		}
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
