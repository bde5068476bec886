package resident

import (
	"time"

	"linli/internal/ent/resident"
	"linli/internal/region"
)

// OriginLabel is how the console and the app name a resident's origin.
func OriginLabel(o resident.Origin) string {
	switch o {
	case resident.OriginImport:
		return "导入"
	case resident.OriginApplication:
		return "申请"
	case resident.OriginInvitation:
		return "业主邀请"
	}
	return "物业添加"
}

// AccessEnd returns the instant access ends for the last day "YYYY-MM-DD":
// 23:59:59 China time of that day.
func AccessEnd(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 23, 59, 59, 0, region.Time)
}

// AccessDate returns the last day of an access end as "YYYY-MM-DD", or nil.
func AccessDate(until *time.Time) *string {
	if until == nil {
		return nil
	}
	v := until.In(region.Time).Format(time.DateOnly)
	return &v
}
