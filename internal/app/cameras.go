package app

import (
	"linli/internal/camera"
	"linli/internal/secret"
)

// startCameras makes 监控设备, whose live views go through the relay of
// door calls (LINLI_RTP_PORTS, LINLI_MEDIA_IP, LINLI_ICE_SERVERS).
func (a *App) startCameras(box *secret.Box) error {
	a.cameras = camera.NewService(a.db, box, a.logger, camera.WithRelay(camera.MediaRelay(a.relay)))
	return nil
}
