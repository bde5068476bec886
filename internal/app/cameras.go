package app

import (
	"linli/internal/camera"
	"linli/internal/secret"
)

// startCameras makes 监控设备, whose live views go through the relay of
// door calls (LINLI_RTP_PORTS, LINLI_MEDIA_IP, LINLI_ICE_SERVERS).
func (a *App) startCameras(box *secret.Box) error {
	opts := []camera.Option{camera.WithRelay(camera.MediaRelay(a.relay))}
	if a.cfg.CamerasOnLoopback {
		opts = append(opts, camera.WithLoopbackCameras())
	}
	a.cameras = camera.NewService(a.db, box, a.logger, opts...)
	return nil
}
