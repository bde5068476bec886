package sim

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"sync/atomic"
	"time"
)

var eventSeq atomic.Int64

// Event is a call or unlock the device reported.
type Event struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Detail string `json:"detail"`
	CallID string `json:"call_id,omitempty" doc:"SIP Call-ID of the call the event belongs to"`
	Status string `json:"status" doc:"sent, or why not"`
}

// ReportEvent uploads a call (target: the dialled number) or an unlock
// (how: card, face, app…; card: its number) with a generated snapshot, as
// a door station's camera would take it. A failed upload is retried with
// the same event id, so the server records it once.
func (d *Device) ReportEvent(ctx context.Context, kind, how, card, target string) Event {
	return d.reportEvent(ctx, kind, how, card, target, "")
}

// reportEvent uploads an event; callID, when set, is the SIP Call-ID of the call
// the event belongs to (the call's snapshot, an unlock during the call).
func (d *Device) reportEvent(ctx context.Context, kind, how, card, target, callID string) Event {
	ev := Event{ID: fmt.Sprintf("%s-%d-%d", d.cfg.Serial, time.Now().UnixMilli(), eventSeq.Add(1)), Type: kind, Detail: how + card + target, CallID: callID}
	fields := map[string]string{"event_id": ev.ID, "type": kind, "time": time.Now().Format(time.RFC3339)}
	if kind == "unlock" {
		fields["unlock_type"], fields["card"] = how, card
	} else {
		fields["target"] = target
	}
	if callID != "" {
		fields["call_id"] = callID
	}
	snap := snapshot(d.cfg.Serial)
	var err error
	for attempt := range 3 {
		if err = d.postEvent(ctx, fields, snap); err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	ev.Status = "sent"
	if err != nil {
		ev.Status = err.Error()
		d.logger.Warn("report event", "device", d.cred.DeviceID, "event", ev.ID, "err", err)
	}
	d.mu.Lock()
	d.events = append(d.events, ev)
	d.mu.Unlock()
	return ev
}

func (d *Device) postEvent(ctx context.Context, fields map[string]string, snap []byte) error {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("snapshot", "snapshot.jpg")
	_, _ = fw.Write(snap)
	_ = mw.Close()
	res, err := d.send(ctx, http.MethodPost, "/device/v1/events", &b, map[string]string{"Content-Type": mw.FormDataContentType()})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		return problem(http.MethodPost, "/device/v1/events", res, data)
	}
	return nil
}

// snapshot draws a 320×240 picture that differs per device and moment.
func snapshot(serial string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	seed := int(time.Now().UnixNano()/1e6) + len(serial)
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x + seed), uint8(y * 2), uint8((x + y + seed) / 3), 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 70})
	return b.Bytes()
}
