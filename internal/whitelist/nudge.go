package whitelist

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"linli/internal/actor"
)

// A Targeter is a Source that can say of changed entries which locations
// hold them, for every device of a community at once. A nudge then carries
// the change itself and a device applies it without asking: one query for
// the whole community instead of a sync request from each device.
type Targeter interface {
	// Targets returns the entries among keys (each starting with Prefix)
	// that exist in community cid at now, each with the rule of the
	// locations that hold it; Holds must agree with Entries. A key
	// without a target is one to delete everywhere.
	Targets(ctx context.Context, cid int, now time.Time, keys []string) ([]Target, error)
}

// A Target is an entry as it is now and the locations that hold it.
type Target struct {
	Entry Entry
	Holds func(Location) bool
}

// Limits of the change a nudge carries: a change of more entries, or a
// message longer than MaxNudgeBytes, is sent as the bare nudge and devices
// fetch it with GET /device/v1/sync.
const (
	MaxNudgeKeys  = 32
	MaxNudgeBytes = 4096
)

// NudgeDelta is the change from version Since to the nudge's version,
// for one device: what its sync from Since would answer.
type NudgeDelta struct {
	Since   int64    `json:"since" doc:"增量的起始版本：设备的版本正好是它时才能直接应用"`
	Upserts []Entry  `json:"upserts"`
	Deletes []string `json:"deletes"`
}

// nudgeMessage is the sync command on a device's cmd topic.
type nudgeMessage struct {
	Type    string      `json:"type"`
	Version int64       `json:"version"`
	Delta   *NudgeDelta `json:"delta,omitempty"`
}

// A Nudge tells a community's devices that their whitelist is now at
// Version. Payload gives each device its message.
type Nudge struct {
	CommunityID int
	Version     int64

	bare []byte
	// keys are the keys that changed at Version, and targets their
	// current entries by key; keys is nil when the nudge is bare for all.
	keys    []string
	targets map[string][]Target

	mu       sync.Mutex
	payloads map[string][]byte // by the choice of targets a device holds
}

// Bare reports whether every device gets the bare nudge (no change in it),
// so that where they stand need not be known.
func (n *Nudge) Bare() bool { return n.keys == nil }

// Payload returns the message for a device at loc: the nudge with the
// change it carries for loc when that is small, else the bare nudge. It is
// safe for concurrent use.
func (n *Nudge) Payload(loc Location) []byte {
	if n.keys == nil {
		return n.bare
	}
	// Which target of each key loc holds (0: none) names the delta; the
	// devices of one kind and unit share it.
	var choice strings.Builder
	held := make([]*Target, len(n.keys))
	for i, k := range n.keys {
		c := byte(0)
		for j, t := range n.targets[k] {
			if t.Holds(loc) {
				held[i], c = &n.targets[k][j], byte(j+1)
				break
			}
		}
		choice.WriteByte(c)
	}
	id := choice.String()
	n.mu.Lock()
	defer n.mu.Unlock()
	if p, ok := n.payloads[id]; ok {
		return p
	}
	d := &NudgeDelta{Since: n.Version - 1, Upserts: []Entry{}, Deletes: []string{}}
	for i, k := range n.keys {
		if held[i] != nil {
			d.Upserts = append(d.Upserts, held[i].Entry)
		} else {
			d.Deletes = append(d.Deletes, k)
		}
	}
	p, err := json.Marshal(nudgeMessage{Type: "sync", Version: n.Version, Delta: d})
	if err != nil || len(p) > MaxNudgeBytes {
		p = n.bare
	}
	n.payloads[id] = p
	return p
}

// nudge returns the nudge of version of community cid, whose change is
// keys: with the change in it when every key's source is a Targeter and
// there are at most MaxNudgeKeys.
func (s *Service) nudge(ctx context.Context, cid int, version int64, keys []string) *Nudge {
	bare, _ := json.Marshal(nudgeMessage{Type: "sync", Version: version})
	n := &Nudge{CommunityID: cid, Version: version, bare: bare}
	if len(keys) == 0 || len(keys) > MaxNudgeKeys {
		return n
	}
	ctx = actor.AsSystem(ctx)
	now := s.now()
	var ordered []string
	targets := map[string][]Target{}
	for _, src := range s.sources {
		mine := keysOf(src, keys)
		if len(mine) == 0 {
			continue
		}
		t, ok := src.(Targeter)
		if !ok {
			return n
		}
		current, err := t.Targets(ctx, cid, now, mine)
		if err != nil {
			s.logger.WarnContext(ctx, "whitelist nudge: the change stays out of it", "community", cid, "version", version, "err", err)
			return n
		}
		for _, c := range current {
			targets[c.Entry.Key] = append(targets[c.Entry.Key], c)
		}
		ordered = append(ordered, mine...)
	}
	if len(ordered) != len(keys) { // a key of no source: leave it to the sync
		return n
	}
	n.keys, n.targets, n.payloads = ordered, targets, map[string][]byte{}
	return n
}
