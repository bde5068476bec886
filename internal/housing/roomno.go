package housing

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRoomNo is returned by ParseRoomNo for text that is not a room number.
var ErrRoomNo = errors.New("房号应为 3 到 4 位数字，如 101 或 0101（楼层 + 两位房间号）")

// ParseRoomNo reads a room number as people write it in spreadsheets: "101"
// or "0101" is floor 1 room 1, "1203" is floor 12 room 3. The last two digits
// are the room, the digits before them the floor.
func ParseRoomNo(s string) (floor, number int, err error) {
	s = strings.TrimSpace(s)
	if len(s) < 3 || len(s) > 4 {
		return 0, 0, ErrRoomNo
	}
	v := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, ErrRoomNo
		}
		v = v*10 + int(s[i]-'0')
	}
	floor, number = v/100, v%100
	if floor < 1 || floor > MaxFloor || number < 1 || number > MaxRoomNumber {
		return 0, 0, fmt.Errorf("房号 %s 超出范围：楼层 1–%d，房间号 01–%02d", s, MaxFloor, MaxRoomNumber)
	}
	return floor, number, nil
}
