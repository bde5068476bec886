// Package call is the domain side of door calls: who a SIP username is
// (devices and residents' app installations), where a dialled number leads
// (the dial plan applied to a community's housing) and what a call leaves
// behind (呼叫记录). The SIP server in internal/sip consumes it through
// sip.Directory and sip.CallLog.
package call

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"linli/internal/actor"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/ent/appsession"
	"linli/internal/ent/resident"
	"linli/internal/household"
	"linli/internal/housing"
	"linli/internal/secret"
	"linli/internal/sip"
	"linli/internal/store"
)

// Directory answers the SIP server's questions from the database. Every
// answer is read at the time of asking, so a rebinding, a sign-out, a
// deleted resident or a withdrawn APP呼叫 takes effect on the next request.
type Directory struct {
	db     *store.Store
	box    *secret.Box
	logger *slog.Logger
	now    func() time.Time
}

// NewDirectory returns a Directory on db; box opens the sealed SIP
// passwords.
func NewDirectory(db *store.Store, box *secret.Box, logger *slog.Logger) *Directory {
	return &Directory{db: db, box: box, logger: logger, now: time.Now}
}

var _ sip.Directory = (*Directory)(nil)

// Account returns the account of a SIP username: d<id> is a bound device,
// a<id> a resident's app installation (a signed-in app session),
// s<account>c<community> a staff member's 门口呼叫 page. An app
// account exists only while its session lasts and the phone still belongs
// to a resident with APP呼叫.
func (d *Directory) Account(ctx context.Context, username string) (sip.Account, bool, error) {
	if strings.HasPrefix(username, "s") {
		return d.staffAccount(actor.AsSystem(ctx), username)
	}
	if len(username) < 2 || len(username) > 12 {
		return sip.Account{}, false, nil
	}
	id, err := strconv.Atoi(username[1:])
	if err != nil || id < 1 || username[1] == '0' {
		return sip.Account{}, false, nil
	}
	sys := actor.AsSystem(ctx)
	switch username[0] {
	case 'd':
		return d.deviceAccount(sys, id)
	case 'a':
		return d.appAccount(sys, id)
	}
	return sip.Account{}, false, nil
}

// deviceQuery reads a device's account and the names its label is made of
// in one query: the SIP server asks at every REGISTER.
const deviceQuery = `SELECT d.kind, d."index", d.community_id, d.sip_password_sealed, c.name,
	COALESCE(a.name, ra.name, ''), COALESCE(b.name, rb.name, ''), COALESCE(u.name, ru.name, ''),
	COALESCE(r.floor, 0), COALESCE(r.number, 0)
FROM devices d
JOIN communities c ON c.id = d.community_id
LEFT JOIN units u ON u.id = d.unit_id
LEFT JOIN buildings b ON b.id = u.building_id
LEFT JOIN areas a ON a.id = b.area_id
LEFT JOIN rooms r ON r.id = d.room_id
LEFT JOIN units ru ON ru.id = r.unit_id
LEFT JOIN buildings rb ON rb.id = ru.building_id
LEFT JOIN areas ra ON ra.id = rb.area_id
WHERE d.id = `

func (d *Directory) deviceAccount(ctx context.Context, id int) (sip.Account, bool, error) {
	q := deviceQuery + "?"
	if d.db.Dialect == dialect.Postgres {
		q = deviceQuery + "$1"
	}
	var (
		kind, community, area, building, unitName string
		index, cid, floor, number                 int
		sealed                                    []byte
	)
	err := d.db.DB.QueryRowContext(ctx, q, id).Scan(&kind, &index, &cid, &sealed, &community, &area, &building, &unitName, &floor, &number)
	if errors.Is(err, sql.ErrNoRows) {
		return sip.Account{}, false, nil
	}
	if err != nil {
		return sip.Account{}, false, err
	}
	pw, err := d.box.Open(sealed)
	if err != nil {
		return sip.Account{}, false, err
	}
	label := device.SlotLabel(community, kind, index, area, building, unitName, housing.RoomNo(floor, number))
	return sip.Account{Username: "d" + strconv.Itoa(id), Password: pw, Kind: kind,
		CommunityID: cid, DeviceID: id, Label: label}, true, nil
}

func (d *Directory) appAccount(ctx context.Context, id int) (sip.Account, bool, error) {
	sess, err := d.db.AppSession.Query().Where(appsession.ID(id), appsession.ExpiresAtGT(d.now())).Only(ctx)
	if ent.IsNotFound(err) {
		return sip.Account{}, false, nil
	}
	if err != nil {
		return sip.Account{}, false, err
	}
	if sess.SipPasswordSealed == nil || len(*sess.SipPasswordSealed) == 0 {
		return sip.Account{}, false, nil // ent reads NULL as no bytes: no password yet
	}
	r, err := callers(ctx, d.db.Client, sess.Phone).First(ctx)
	if ent.IsNotFound(err) {
		return sip.Account{}, false, nil // deleted, or APP呼叫 withdrawn
	}
	if err != nil {
		return sip.Account{}, false, err
	}
	pw, err := d.box.Open(*sess.SipPasswordSealed)
	if err != nil {
		return sip.Account{}, false, err
	}
	return sip.Account{Username: AppUsername(sess.ID), Password: pw, Kind: sip.KindApp, CommunityID: r.CommunityID,
		ResidentID: r.ID, Phone: sess.Phone, Label: r.Name}, true, nil
}

// callers is the query of the residents of phone p who may use the app for
// calls (APP呼叫) and whose access has not ended, oldest first: the first
// one is who the app signs in as.
func callers(ctx context.Context, db *ent.Client, p string) *ent.ResidentQuery {
	return db.Resident.Query().Where(resident.Phone(p), resident.AppCall(true), household.Current(time.Now())).Order(ent.Asc(resident.FieldID))
}

// AppUsername is the SIP username of app session id.
func AppUsername(id int) string { return "a" + strconv.Itoa(id) }

// Gateway returns a community's phone gateway as a SIP URI: gw.example.com
// becomes sip:gw.example.com; "" stays "".
func Gateway(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	low := strings.ToLower(v)
	if strings.HasPrefix(low, "sip:") || strings.HasPrefix(low, "sips:") {
		return v
	}
	return "sip:" + v
}
