// Package sip is Linli's SIP server: digest authentication, the registrar
// and the forking proxy that rings a room's indoor monitor and its residents'
// apps at once. Only this package (and its subpackages) import the SIP stack.
//
// What a SIP username belongs to, where a dialled number leads and what a
// call leaves behind are decided outside this package, by the Directory and
// the CallLog it is given.
package sip

import (
	"context"
	"time"
)

// Account kinds: the device kinds of internal/device, and app for a
// resident's app installation.
const (
	KindDoor       = "door"
	KindWall       = "wall"
	KindManagement = "management"
	KindIndoor     = "indoor"
	KindApp        = "app"
	KindStaff      = "staff" // property staff on a console page (门口呼叫)
)

// Account is who a SIP username belongs to.
type Account struct {
	Username    string // d<device id> for devices, a<id> for app installations, s<account id>c<community id> for staff pages
	Password    string // the plain secret: digest needs it (HA1 is computed per realm and algorithm)
	Kind        string // one of the Kind constants
	CommunityID int
	DeviceID    int    // devices only
	ResidentID  int    // app installations: the resident row the app signed in as (any one of the phone's rows)
	Phone       string // app installations: the resident's phone
	Label       string // for records: 【测试小区1】-1区-2栋-1单元-门口机1, or the resident's name
}

// Branch is one callee of a fork: every registered contact of the username
// rings.
type Branch struct {
	Username string
	Who      string // what a call record says answered: 室内分机, the resident's name, 管理机1
}

// Forward is a phone to try through the community's phone gateway when no
// branch answered within the ring time (电话转移), in order.
type Forward struct {
	Phone string // 13812341234
	Who   string // the resident's name
}

// Route is where a dialled number leads for one caller.
type Route struct {
	Number   string        // what was dialled, as dialled
	Target   string        // what it resolved to, for records: the room's or device's label
	RoomID   int           // the room called, 0 when not a room
	DeviceID int           // the device called (监视, management station, door station), 0 otherwise
	Monitor  bool          // 监视: the callee answers automatically; never a missed call
	Branches []Branch      // rung in parallel
	RingTime time.Duration // how long branches ring before Forwards are tried
	Forwards []Forward
	Gateway  string // the community's phone gateway as a SIP URI (sip:host:port), "" when none
}

// RouteError refuses a call: 404 for a number not in the plan, 403 for one
// the caller may not reach, 480 when nobody can be rung. Reason goes into
// the Reason header (a short English phrase; Chinese is fine in the text).
type RouteError struct {
	Code   int
	Reason string
}

func (e *RouteError) Error() string { return e.Reason }

// Directory is what the SIP server needs from the rest of Linli.
type Directory interface {
	// Account returns the account of a SIP username; ok is false when there
	// is none (revoked, unbound, unknown).
	Account(ctx context.Context, username string) (a Account, ok bool, err error)
	// Route resolves what caller dialled. A refusal is a *RouteError.
	Route(ctx context.Context, caller Account, number string) (Route, error)
}

// Call results, as records show them.
const (
	ResultAnswered  = "answered"  // 已接听
	ResultMissed    = "missed"    // 未接听 (nobody answered in time)
	ResultBusy      = "busy"      // 占线/拒接 (486, 600, 603 from every branch)
	ResultCancelled = "cancelled" // 已取消 (the caller hung up first)
	ResultForwarded = "forwarded" // 已转移 (answered on a forwarded phone)
	ResultFailed    = "failed"    // 失败 (any other final answer; Code says which)
)

// Call is what one routed call leaves behind. The server reports it to the
// CallLog when it starts, when it is answered and when it ends; CallID (the
// caller's SIP Call-ID) is the key each time.
type Call struct {
	CallID     string
	Caller     Account
	Route      Route
	StartedAt  time.Time
	AnsweredAt time.Time // zero until answered
	EndedAt    time.Time // zero until ended
	Answerer   string    // Branch.Who or "电话转移 138****1234"; "" until answered
	AnswererID int       // the resident id when an app or a forwarded phone answered
	Result     string    // one of the Result constants once ended
	Code       int       // the final SIP status the caller got
}

// CallLog keeps call records.
type CallLog interface {
	CallStarted(ctx context.Context, c Call)
	CallAnswered(ctx context.Context, c Call)
	CallEnded(ctx context.Context, c Call)
}
