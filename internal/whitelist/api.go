package whitelist

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
	"linli/internal/ent"
	"linli/internal/httpapi"
)

// Devices is what whitelists ask of the device service: the device behind
// a device request, where it stands, a record that it was seen, and a
// nudge to a community's devices that their whitelist moved (n.Payload
// gives each device its message).
type Devices interface {
	Current(ctx context.Context) *ent.Device
	Location(ctx context.Context, d *ent.Device) (Location, error)
	Seen(ctx context.Context, d *ent.Device, ip string) error
	Nudge(ctx context.Context, n *Nudge)
}

type syncInput struct {
	Since int64 `query:"since" minimum:"0" doc:"设备已有的白名单版本；新设备为 0"`
}

// Register adds GET /device/v1/sync to api.
func (s *Service) Register(api huma.API) {
	huma.Register(api, httpapi.Op("device-sync", http.MethodGet, "/device/v1/sync", "同步白名单", auth.DeviceOnly(),
		httpapi.Tags("设备接口"),
		httpapi.Security("device"),
		httpapi.Describe("返回自 since 版本以来的变化（upserts 与 deletes）和新版本号；"+
			"新设备或落后太多时返回完整白名单（full 为 true）。")),
		func(ctx context.Context, in *syncInput) (*httpapi.Body[*Delta], error) {
			d := s.devices.Current(ctx)
			loc, err := s.devices.Location(ctx, d)
			if err != nil {
				return nil, err
			}
			delta, err := s.Sync(ctx, loc, in.Since)
			if err != nil {
				return nil, err
			}
			if err := s.devices.Seen(ctx, d, auth.ClientIP(ctx)); err != nil {
				return nil, err
			}
			return httpapi.Reply(delta), nil
		})
}
