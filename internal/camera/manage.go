package camera

import (
	"context"
	"strings"
	"time"

	"linli/internal/ent"
	entcamera "linli/internal/ent/camera"
	"linli/internal/errs"
	"linli/internal/ipcam"
	"linli/internal/store"
)

// Add probes the camera over ONVIF and, when it answers as an H.264
// camera to the credentials given, keeps it in community cid.
//
// Errors: errs.NotFound (community), errs.Invalid (input, or the camera is
// unreachable, refuses the credentials, is no ONVIF camera or has no H.264
// profile: nothing is stored).
func (s *Service) Add(ctx context.Context, cid int, in Input) (*Camera, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, err
	}
	v, err := s.validate(ctx, cid, in, nil)
	if err != nil {
		return nil, err
	}
	info, err := s.probeWith(ctx, v.hostport, v.username, v.password)
	if err != nil {
		return nil, probeError(err)
	}
	now := s.now()
	c, err := s.db.Camera.Create().SetCommunityID(cid).SetName(v.name).SetAddress(v.hostport).SetUsername(v.username).
		SetPasswordSealed(s.box.Seal(v.password)).SetNillableDeviceID(v.deviceID).SetLastCheckedAt(now).
		SetManufacturer(clip(info.Manufacturer)).SetModel(clip(info.Model)).SetFirmware(clip(info.Firmware)).
		SetSerial(clip(info.Serial)).SetProfileToken(clip(info.ProfileToken)).SetStreamURI(info.StreamURI).
		SetSnapshotURI(info.SnapshotURI).SetWidth(info.Width).SetHeight(info.Height).SetVideoCodec(info.VideoCodec).
		SetAudioCodec(clip20(info.AudioCodec)).Save(ctx)
	if err != nil {
		return nil, store.Map(err, "监控设备")
	}
	out := s.view(c)
	return &out, nil
}

func (s *Service) probeWith(ctx context.Context, hostport, username, password string) (*ipcam.Info, error) {
	pctx, cancel := context.WithTimeout(s.reach(ctx), ProbeTimeout)
	defer cancel()
	return s.probe(pctx, hostport, username, password)
}

// clip cuts what a camera says to what the columns hold.
func clip(v string) string {
	r := []rune(strings.TrimSpace(v))
	if len(r) > 100 {
		r = r[:100]
	}
	return string(r)
}

func clip20(v string) string {
	if len(v) > 20 {
		return v[:20]
	}
	return v
}

// get returns camera id of community cid.
func (s *Service) get(ctx context.Context, cid, id int) (*ent.Camera, error) {
	c, err := s.db.Camera.Query().Where(entcamera.ID(id), entcamera.CommunityID(cid)).Only(ctx)
	return c, store.Map(err, "监控设备")
}

// Get returns camera id of community cid.
//
// Errors: errs.NotFound.
func (s *Service) Get(ctx context.Context, cid, id int) (*Camera, error) {
	c, err := s.get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	out := s.view(c)
	return &out, nil
}

// Update changes a camera. A new address, username or password is probed
// first, as in Add; the live session, if any, ends.
//
// Errors: errs.NotFound, errs.Invalid.
func (s *Service) Update(ctx context.Context, cid, id int, in Input) (*Camera, error) {
	cur, err := s.get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	v, err := s.validate(ctx, cid, in, cur)
	if err != nil {
		return nil, err
	}
	u := s.db.Camera.UpdateOne(cur).SetName(v.name)
	if v.deviceID == nil {
		u.ClearDeviceID()
	} else {
		u.SetDeviceID(*v.deviceID)
	}
	if v.hostport != cur.Address || v.username != cur.Username || v.password != "" {
		password := v.password
		if password == "" {
			if password, err = s.box.Open(cur.PasswordSealed); err != nil {
				return nil, err
			}
		}
		info, err := s.probeWith(ctx, v.hostport, v.username, password)
		if err != nil {
			return nil, probeError(err)
		}
		u.SetAddress(v.hostport).SetUsername(v.username).SetPasswordSealed(s.box.Seal(password))
		setInfo(u, info, s.now())
	}
	c, err := u.Save(ctx)
	if err != nil {
		return nil, store.Map(err, "监控设备")
	}
	s.live.stop(id)
	s.shots.forget(id)
	out := s.view(c)
	return &out, nil
}

func setInfo(u *ent.CameraUpdateOne, info *ipcam.Info, now time.Time) {
	u.SetManufacturer(clip(info.Manufacturer)).SetModel(clip(info.Model)).SetFirmware(clip(info.Firmware)).
		SetSerial(clip(info.Serial)).SetProfileToken(clip(info.ProfileToken)).SetStreamURI(info.StreamURI).
		SetSnapshotURI(info.SnapshotURI).SetWidth(info.Width).SetHeight(info.Height).SetVideoCodec(info.VideoCodec).
		SetAudioCodec(clip20(info.AudioCodec)).SetLastCheckedAt(now).SetLastError("")
}

// Refresh probes the camera again with its stored credentials and keeps
// what it says; a failed probe is kept as the camera's status (last_error)
// and is no error of the request.
//
// Errors: errs.NotFound.
func (s *Service) Refresh(ctx context.Context, cid, id int) (*Camera, error) {
	cur, err := s.get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	password, err := s.box.Open(cur.PasswordSealed)
	if err != nil {
		return nil, err
	}
	u := s.db.Camera.UpdateOne(cur)
	info, perr := s.probeWith(ctx, cur.Address, cur.Username, password)
	if perr != nil {
		s.logger.Info("camera check failed", "camera", id, "err", perr)
		u.SetLastCheckedAt(s.now()).SetLastError(lastError(perr))
	} else {
		setInfo(u, info, s.now())
	}
	c, err := u.Save(ctx)
	if err != nil {
		return nil, store.Map(err, "监控设备")
	}
	s.shots.forget(id)
	out := s.view(c)
	return &out, nil
}

// Delete removes a camera and ends its live session.
//
// Errors: errs.NotFound.
func (s *Service) Delete(ctx context.Context, cid, id int) error {
	n, err := s.db.Camera.Delete().Where(entcamera.ID(id), entcamera.CommunityID(cid)).Exec(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.New(errs.NotFound, "监控设备不存在")
	}
	s.live.stop(id)
	s.shots.forget(id)
	return nil
}

// List returns a page of the cameras of community cid by name; name, when
// not empty, selects names that contain it.
//
// Errors: errs.NotFound (community).
func (s *Service) List(ctx context.Context, cid int, name string, offset, limit int) ([]Camera, int, error) {
	if _, err := store.Community(ctx, s.db.Client, cid); err != nil {
		return nil, 0, err
	}
	q := s.db.Camera.Query().Where(entcamera.CommunityID(cid))
	if name = strings.TrimSpace(name); name != "" {
		q = q.Where(entcamera.NameContains(name))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	list, err := q.Order(ent.Asc(entcamera.FieldName), ent.Asc(entcamera.FieldID)).Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Camera, len(list))
	for i, c := range list {
		out[i] = s.view(c)
	}
	return out, total, nil
}

// Snapshot returns the camera's current picture (JPEG), fetched with its
// credentials and kept for SnapshotTTL.
//
// Errors: errs.NotFound, errs.Unavailable (the camera has no snapshot or
// did not give one).
func (s *Service) Snapshot(ctx context.Context, cid, id int) ([]byte, error) {
	c, err := s.get(ctx, cid, id)
	if err != nil {
		return nil, err
	}
	if c.SnapshotURI == "" {
		return nil, errs.New(errs.Unavailable, "这台摄像机不提供抓图")
	}
	e := s.shots.get(id)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.data != nil && s.now().Sub(e.at) < SnapshotTTL {
		return e.data, nil
	}
	password, err := s.box.Open(c.PasswordSealed)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(s.reach(ctx), ipcam.Timeout)
	defer cancel()
	data, err := ipcam.Snapshot(sctx, c.SnapshotURI, c.Username, password)
	if err != nil {
		s.logger.Info("camera snapshot failed", "camera", id, "err", err)
		return nil, &errs.Error{Code: errs.Unavailable, Message: "无法获取摄像机画面，请稍后再试或点击刷新检查摄像机", Err: err}
	}
	e.data, e.at = data, s.now()
	return data, nil
}
