package app

import (
	"linli/internal/camera"
	"linli/internal/media"
	"linli/internal/secret"
)

// startCameras makes 监控设备 with live view through a media relay of its
// own (loopback ICE by default).
// TODO(merge): share the door calls' relay (LINLI_RTP_PORTS, LINLI_MEDIA_IP,
// ICE servers) once both are on one branch.
func (a *App) startCameras(box *secret.Box) error {
	relay, err := media.New(media.Config{Logger: a.logger.With("part", "camera-media")})
	if err != nil {
		return err
	}
	a.cameraRelay = relay
	a.cameras = camera.NewService(a.db, box, a.logger, camera.WithRelay(camera.MediaRelay(relay)))
	return nil
}

// closeCameras ends the live camera views and their relay.
func (a *App) closeCameras() {
	if a.cameras != nil {
		a.cameras.Close()
	}
	if a.cameraRelay != nil {
		a.cameraRelay.Close()
	}
}

// CameraMediaStats counts what live camera views hold in the relay.
func (a *App) CameraMediaStats() media.RelayStats {
	if a.cameraRelay == nil {
		return media.RelayStats{}
	}
	return a.cameraRelay.Stats()
}
