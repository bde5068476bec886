package whitelist

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/httpapi"
)

// Devices is what the sync handler asks of the device service: where a
// device stands, and a record that it was seen.
type Devices interface {
	Location(ctx context.Context, d *ent.Device) (Location, error)
	Seen(ctx context.Context, d *ent.Device, ip string) error
}

type syncInput struct {
	Since int64 `query:"since" minimum:"0" doc:"设备已有的白名单版本；新设备为 0"`
}

// Register adds GET /device/v1/sync to api. current returns the device of
// a device request (the gate has authenticated it).
func (s *Service) Register(api huma.API, devices Devices, current func(ctx context.Context) *ent.Device) {
	huma.Register(api, httpapi.Op("device-sync", http.MethodGet, "/device/v1/sync", "同步白名单", auth.DeviceOnly(),
		httpapi.Tags("设备接口"),
		httpapi.Security("device"),
		httpapi.Describe("返回自 since 版本以来的变化（upserts 与 deletes）和新版本号；"+
			"新设备或落后太多时返回完整白名单（full 为 true）。")),
		func(ctx context.Context, in *syncInput) (*httpapi.Body[*Delta], error) {
			d := current(ctx)
			loc, err := devices.Location(ctx, d)
			if err != nil {
				return nil, err
			}
			delta, err := s.Sync(ctx, loc, in.Since)
			if err != nil {
				return nil, err
			}
			if err := devices.Seen(ctx, d, auth.ClientIP(ctx)); err != nil {
				return nil, err
			}
			return httpapi.Reply(delta), nil
		})
}
