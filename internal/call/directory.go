// Package call is the domain side of door calls: who a SIP username is
// (devices and residents' app installations), where a dialled number leads
// (the dial plan applied to a community's housing) and what a call leaves
// behind (呼叫记录). The SIP server in internal/sip consumes it through
// sip.Directory and sip.CallLog.
package call

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"linli/internal/actor"
	"linli/internal/device"
	"linli/internal/ent"
	"linli/internal/ent/appsession"
	entdevice "linli/internal/ent/device"
	"linli/internal/ent/resident"
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
// a<id> a resident's app installation (a signed-in app session). An app
// account exists only while its session lasts and the phone still belongs
// to a resident with APP呼叫.
func (d *Directory) Account(ctx context.Context, username string) (sip.Account, bool, error) {
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

func (d *Directory) deviceAccount(ctx context.Context, id int) (sip.Account, bool, error) {
	dev, err := d.db.Device.Query().Where(entdevice.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return sip.Account{}, false, nil
	}
	if err != nil {
		return sip.Account{}, false, err
	}
	pw, err := d.box.Open(dev.SipPasswordSealed)
	if err != nil {
		return sip.Account{}, false, err
	}
	p, err := device.PlaceOf(ctx, d.db.Client, dev)
	if err != nil {
		return sip.Account{}, false, err
	}
	return sip.Account{Username: "d" + strconv.Itoa(dev.ID), Password: pw, Kind: string(dev.Kind),
		CommunityID: dev.CommunityID, DeviceID: dev.ID, Label: p.Label}, true, nil
}

func (d *Directory) appAccount(ctx context.Context, id int) (sip.Account, bool, error) {
	sess, err := d.db.AppSession.Query().Where(appsession.ID(id), appsession.ExpiresAtGT(d.now())).Only(ctx)
	if ent.IsNotFound(err) {
		return sip.Account{}, false, nil
	}
	if err != nil {
		return sip.Account{}, false, err
	}
	if sess.SipPasswordSealed == nil {
		return sip.Account{}, false, nil
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
// calls (APP呼叫), oldest first: the first one is who the app signs in as.
func callers(ctx context.Context, db *ent.Client, p string) *ent.ResidentQuery {
	return db.Resident.Query().Where(resident.Phone(p), resident.AppCall(true)).Order(ent.Asc(resident.FieldID))
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
