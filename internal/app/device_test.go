package app_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"linli/internal/apptest"
	"linli/internal/storetest"
)

type credentials struct {
	DeviceID int    `json:"device_id"`
	Label    string `json:"label"`
	Token    string `json:"token"`
	MQTT     struct {
		Username    string `json:"username"`
		Password    string `json:"password"`
		CmdTopic    string `json:"cmd_topic"`
		StatusTopic string `json:"status_topic"`
	} `json:"mqtt"`
}

type delta struct {
	Version int64 `json:"version"`
	Full    bool  `json:"full"`
	Upserts []struct {
		Key, Kind, Card string
	} `json:"upserts"`
	Deletes []string `json:"deletes"`
}

func syncAs(t *testing.T, c *apptest.Client, token string, since int64) (int, delta) {
	t.Helper()
	r := c.DoHeaders("GET", fmt.Sprintf("/device/v1/sync?since=%d", since), map[string]string{"Authorization": "Bearer " + token}, nil)
	var d delta
	if r.Status == 200 {
		r.JSON(t, &d)
	}
	return r.Status, d
}

func cardsOf(d delta) []string {
	var out []string
	for _, u := range d.Upserts {
		if u.Kind == "card" {
			out = append(out, u.Card)
		}
	}
	return out
}

func TestDeviceBindingAndSync(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "门禁小区", "DV")
		b := s.NewCommunity(t, op, "隔壁小区", "DV2")
		m := a.Manager
		inst := s.Client("installer")
		bind := func(cid int, pw, serial string, slot map[string]any) apptest.Response {
			return inst.Do("POST", "/device/v1/bind", map[string]any{"community_id": cid, "community_password": pw,
				"serial": serial, "model": "DS-K1T", "firmware": "1.0.0", "slot": slot})
		}
		door1 := map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}

		var cr credentials
		r := bind(a.ID, "pwDVx9", "SN-0001", door1)
		if r.Status != 200 {
			t.Fatalf("bind: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &cr)
		if cr.Label != "【门禁小区】-1区-1栋-1单元-门口机1" || cr.Token == "" || cr.MQTT.CmdTopic != fmt.Sprintf("linli/%d/device/%d/cmd", a.ID, cr.DeviceID) {
			t.Fatalf("credentials: %+v", cr)
		}
		for _, tt := range []struct {
			serial string
			slot   map[string]any
			status int
			want   string
		}{
			{"SN-0002", map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 3}, 422, "门口机编号应为 1 到 2"},
			{"SN-0002", map[string]any{"kind": "door", "unit_id": b.UnitID, "index": 1}, 422, "单元不存在"},
			{"SN-0001", map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 2}, 409, "已绑定在其他位置"},
			{"SN-0002", door1, 409, "已绑定设备 SN-0001"},
			{"SN-0002", map[string]any{"kind": "lift", "index": 1}, 422, "设备类型"},
		} {
			if r := bind(a.ID, "pwDVx9", tt.serial, tt.slot); r.Status != tt.status || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("bind %s %v: %d %s, want %d %q", tt.serial, tt.slot, r.Status, r.Body, tt.status, tt.want)
			}
		}

		// Re-binding the same serial to the same slot revokes the old token.
		var again credentials
		bind(a.ID, "pwDVx9", "SN-0001", door1).JSON(t, &again)
		if again.DeviceID != cr.DeviceID || again.Token == cr.Token {
			t.Fatalf("re-bind: %+v", again)
		}
		if st, _ := syncAs(t, inst, cr.Token, 0); st != 401 {
			t.Fatalf("old token after re-bind: %d", st)
		}
		token := again.Token

		// A wall station sees the whole community; the door only its unit.
		var wall credentials
		bind(a.ID, "pwDVx9", "SN-WALL", map[string]any{"kind": "wall", "index": 1}).JSON(t, &wall)
		var other struct{ ID int }
		m.Must(201, "POST", a.Path("/units"), map[string]any{"building_id": a.BuildingID, "number": 2, "device_count": 1}).JSON(t, &other)
		var otherRoom struct{ ID int }
		m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": other.ID, "floor": 1, "number": 1}).JSON(t, &otherRoom)
		var here, there struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "本单元", "role": "业主"}).JSON(t, &here)
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": otherRoom.ID, "name": "别单元", "role": "业主"}).JSON(t, &there)

		st, full := syncAs(t, inst, token, 0)
		if st != 200 || !full.Full || len(full.Upserts) != 0 {
			t.Fatalf("first sync: %d %+v", st, full)
		}
		var card struct{ ID int }
		m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": "09e98cf6", "resident_id": here.ID}).JSON(t, &card)
		m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": "166300919", "format": "decimal", "resident_id": there.ID})
		m.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": "00FFEE01"})
		if r := m.Do("POST", a.Path("/cards/super"), map[string]any{"number": "09E98CF6"}); r.Status != 422 || !strings.Contains(r.Detail(), "已在本小区发过卡") {
			t.Errorf("duplicate number: %d %s", r.Status, r.Body)
		}
		_, d := syncAs(t, inst, token, full.Version)
		if strings.Join(cardsOf(d), ",") != "00FFEE01,09E98CF6" {
			t.Fatalf("door delta: %+v", d)
		}
		_, w := syncAs(t, inst, wall.Token, 0)
		if len(cardsOf(w)) != 3 {
			t.Fatalf("wall station whitelist: %+v", w)
		}

		// 停用 removes the card; deleting the resident removes theirs.
		m.Must(200, "POST", a.Path(fmt.Sprintf("/cards/%d/disable", card.ID)), nil)
		_, d2 := syncAs(t, inst, token, d.Version)
		if len(d2.Deletes) != 1 || d2.Deletes[0] != "card:09E98CF6" {
			t.Fatalf("after 停用: %+v", d2)
		}
		m.Must(200, "POST", a.Path(fmt.Sprintf("/cards/%d/enable", card.ID)), nil)
		m.Must(204, "DELETE", a.Path(fmt.Sprintf("/residents/%d", here.ID)), nil)
		_, d3 := syncAs(t, inst, token, d2.Version)
		if len(cardsOf(d3)) != 0 || !slices.Contains(d3.Deletes, "card:09E98CF6") {
			t.Fatalf("after deleting the resident: %+v", d3)
		}

		// Another community's device never sees A's cards.
		var bdev credentials
		bind(b.ID, "pwDV2x9", "SN-B-1", map[string]any{"kind": "management", "index": 1}).JSON(t, &bdev)
		if _, bd := syncAs(t, inst, bdev.Token, 0); len(bd.Upserts) != 0 {
			t.Fatalf("B's device sees %+v", bd)
		}
		// A device token is no console session.
		if r := inst.DoHeaders("GET", a.Path("/cards"), map[string]string{"Authorization": "Bearer " + token}, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("device token on the console API: %d", r.Status)
		}

		// 设备列表 shows the bound slots.
		var slots struct {
			Items []struct {
				Label, Serial, Status string
			}
		}
		m.Must(200, "GET", a.Path("/devices"), nil).JSON(t, &slots)
		if len(slots.Items) != 5 || slots.Items[0].Serial != "SN-0001" || slots.Items[0].Status != "offline" || slots.Items[2].Status != "unbound" {
			t.Fatalf("device list: %+v", slots.Items)
		}

		// Wrong community passwords are throttled per address.
		for i := range 6 {
			r := bind(a.ID, "wrong", "SN-X", door1)
			if i < 5 && r.Status != 401 || i == 5 && r.Status != 429 {
				t.Fatalf("wrong password %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		if r := bind(a.ID, "pwDVx9", "SN-0001", door1); r.Status != 429 {
			t.Fatalf("right password while throttled: %d", r.Status)
		}
	})
}

// TestBoundDevicesKeepTheirSlots checks that housing and counts cannot be cut
// from under a bound device, and that cards follow a resident who moves.
func TestBoundDevicesKeepTheirSlots(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "槽位小区", "SL")
		m := a.Manager
		inst := s.Client("installer")
		var u2 struct{ ID int }
		m.Must(201, "POST", a.Path("/units"), map[string]any{"building_id": a.BuildingID, "number": 2, "device_count": 2}).JSON(t, &u2)
		inst.Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwSLx9", "serial": "SN-U2",
			"slot": map[string]any{"kind": "door", "unit_id": u2.ID, "index": 2}})
		inst.Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwSLx9", "serial": "SN-WALL",
			"slot": map[string]any{"kind": "wall", "index": 1}})
		for _, tt := range []struct {
			method, path string
			body         any
			status       int
			want         string
		}{
			{"PATCH", fmt.Sprintf("/units/%d", u2.ID), map[string]any{"device_count": 1}, 422, "门口机2 已绑定设备 SN-U2"},
			{"DELETE", fmt.Sprintf("/units/%d", u2.ID), nil, 409, "1 个已绑定的门口机"},
			{"DELETE", fmt.Sprintf("/buildings/%d", a.BuildingID), nil, 409, "已绑定的门口机"},
			{"PATCH", "", map[string]any{"wall_station_count": 0}, 422, "围墙机1 已绑定设备 SN-WALL"},
		} {
			if r := m.Do(tt.method, a.Path(tt.path), tt.body); r.Status != tt.status || !strings.Contains(r.Detail(), tt.want) {
				t.Errorf("%s %s: %d %s, want %d %q", tt.method, tt.path, r.Status, r.Body, tt.status, tt.want)
			}
		}

		// A resident who moves takes the cards along.
		var room2 struct{ ID int }
		m.Must(201, "POST", a.Path("/rooms"), map[string]any{"unit_id": u2.ID, "floor": 3, "number": 1}).JSON(t, &room2)
		var res struct{ ID int }
		m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "搬家", "role": "业主"}).JSON(t, &res)
		m.Must(201, "POST", a.Path("/cards"), map[string]any{"number": "5E5E5E5E", "resident_id": res.ID})
		m.Must(200, "PATCH", a.Path(fmt.Sprintf("/residents/%d", res.ID)), map[string]any{"room_id": room2.ID})
		var cards struct {
			Items []cardView
		}
		m.Must(200, "GET", a.Path(fmt.Sprintf("/cards?room_id=%d&number=5e5e", room2.ID)), nil).JSON(t, &cards)
		if len(cards.Items) != 1 || len(cards.Items[0].UnitIDs) != 1 || cards.Items[0].UnitIDs[0] != u2.ID ||
			cards.Items[0].RoomLabel != "【槽位小区】-1区-1栋-2单元-0301" {
			t.Fatalf("card after the move: %+v", cards.Items)
		}
	})
}

// TestFacesReachDoorStations checks the wiring from the resident pages to
// the whitelist: an uploaded face reaches the door station of the
// resident's unit, and stopping it takes it away.
func TestFacesReachDoorStations(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	a := s.NewCommunity(t, op, "人脸小区", "FC")
	m := a.Manager
	var cr credentials
	s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwFCx9",
		"serial": "SN-FACE", "slot": map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}}).JSON(t, &cr)
	dev := s.Client("door station")
	_, first := syncAs(t, dev, cr.Token, 0)

	var res struct{ ID int }
	m.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "刷脸", "role": "业主"}).JSON(t, &res)
	ct, body := faceForm(true)
	if r := m.DoType("PUT", a.Path(fmt.Sprintf("/residents/%d/face", res.ID)), ct, body); r.Status != 200 {
		t.Fatalf("face upload: %d %s", r.Status, r.Body)
	}
	key := fmt.Sprintf("face:%d", res.ID)
	_, d := syncAs(t, dev, cr.Token, first.Version)
	if len(d.Upserts) != 1 || d.Upserts[0].Key != key {
		t.Fatalf("after the upload the door station got %+v", d)
	}
	m.Must(200, "PATCH", a.Path(fmt.Sprintf("/residents/%d/face", res.ID)), map[string]any{"enabled": false})
	_, d2 := syncAs(t, dev, cr.Token, d.Version)
	if !slices.Contains(d2.Deletes, key) {
		t.Fatalf("after 停用 the door station got %+v", d2)
	}
}

// TestSyncCompressed: a device that accepts gzip gets a large whitelist
// compressed (small answers are not worth it), and the answer is the same.
func TestSyncCompressed(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, storetest.Backends()[0])
	op := s.Operator()
	a := s.NewCommunity(t, op, "压缩小区", "GZ")
	for i := range 120 {
		op.Must(201, "POST", a.Path("/cards/super"), map[string]any{"number": fmt.Sprintf("C0DE%04X", i)})
	}
	var cr credentials
	s.Client("installer").Must(200, "POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": "pwGZx9",
		"serial": "SN-GZ", "slot": map[string]any{"kind": "wall", "index": 1}}).JSON(t, &cr)
	req, _ := http.NewRequest("GET", s.URL+"/device/v1/sync?since=0", nil)
	req.Header.Set("Authorization", "Bearer "+cr.Token)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("sync: %d, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Full    bool
		Upserts []struct{ Card string }
	}
	if err := json.NewDecoder(zr).Decode(&d); err != nil || !d.Full || len(d.Upserts) != 120 {
		t.Fatalf("decoded %v: full=%v, %d entries", err, d.Full, len(d.Upserts))
	}
	// Without Accept-Encoding it is plain JSON.
	plain := s.Client("device").DoHeaders("GET", "/device/v1/sync?since=0", map[string]string{"Authorization": "Bearer " + cr.Token}, nil)
	if plain.Status != 200 || plain.Header.Get("Content-Encoding") != "" || !strings.Contains(string(plain.Body), "C0DE0031") {
		t.Fatalf("plain sync: %d %q", plain.Status, plain.Header.Get("Content-Encoding"))
	}
}
