// Package housing manages the housing tree of a community: areas (区域),
// buildings (楼栋), units (单元) and rooms (房间), and makes the location
// labels people read, such as 【测试小区1】-1区-2栋-1单元-0502.
package housing

import (
	"context"
	"fmt"
	"strings"

	"linli/internal/ent"
	"linli/internal/errs"
	"linli/internal/store"
)

// Limits of the housing tree. They are documented in the README.
const (
	MaxAreaNumber     = 999
	MaxBuildingNumber = 999
	MaxUnitNumber     = 99
	MaxDeviceCount    = 20 // door stations per unit
	MaxFloor          = 99
	MaxRoomNumber     = 99 // rooms per floor
	MaxBatchPerFloor  = 30
	MaxBatchRooms     = 2000
	MaxNameLen        = 20
)

// Service manages the housing tree.
type Service struct {
	db      *store.Store
	devices Devices
}

// Devices answers what the housing tree must know of the devices bound in
// it: a place that holds one is not deleted, and a unit keeps at least as
// many door stations as its highest bound one. The device service
// implements it.
type Devices interface {
	// BoundInUnits counts the door stations bound in units.
	BoundInUnits(ctx context.Context, unitIDs ...int) (int, error)
	// BoundInRoom counts the indoor monitors bound in room.
	BoundInRoom(ctx context.Context, roomID int) (int, error)
	// LastBoundDoor returns the index and serial of unit's bound door
	// station with the highest index; index 0 when none is bound.
	LastBoundDoor(ctx context.Context, unitID int) (index int, serial string, err error)
}

// NewService returns a Service on db that asks devices about the devices
// bound in places before it removes or shrinks them.
func NewService(db *store.Store, devices Devices) *Service { return &Service{db: db, devices: devices} }

// Label joins a community name and the names below it into a location label:
// Label("测试小区1", "1区", "2栋", "1单元", "0502") = "【测试小区1】-1区-2栋-1单元-0502".
// Every place that shows a location uses it.
func Label(community string, parts ...string) string {
	var b strings.Builder
	b.WriteString("【")
	b.WriteString(community)
	b.WriteString("】")
	for _, p := range parts {
		b.WriteString("-")
		b.WriteString(p)
	}
	return b.String()
}

// RoomNo is the canonical room number FFRR: floor 5 room 2 is "0502".
func RoomNo(floor, number int) string {
	return fmt.Sprintf("%02d%02d", floor, number)
}

// community loads community cid as the actor sees it.
func (s *Service) community(ctx context.Context, cid int) (*ent.Community, error) {
	return store.Community(ctx, s.db.Client, cid)
}

// defaultName returns name, or number followed by suffix ("1区") when name is empty.
func defaultName(name string, number int, suffix string) string {
	if strings.TrimSpace(name) == "" {
		return fmt.Sprintf("%d%s", number, suffix)
	}
	return name
}

// describe turns counts into "2 个楼栋、24 个房间", skipping zeros.
func describe(counts ...struct {
	n    int
	what string
}) string {
	var parts []string
	for _, c := range counts {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d 个%s", c.n, c.what))
		}
	}
	return strings.Join(parts, "、")
}

type count = struct {
	n    int
	what string
}

// notEmpty is the error for deleting a node that still holds rooms or residents.
func notEmpty(label, inside string) error {
	return errs.Newf(errs.Conflict, "%s下还有 %s，请先删除业主和房间后再删除", label, inside)
}
