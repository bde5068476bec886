package media

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestSendDTMF(t *testing.T) {
	r := newTestRelay(t, Config{})
	rs, err := r.NewRTPStream(1, "door")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if err := rs.SendDTMF('5'); err == nil {
		t.Error("DTMF accepted before Start")
	}
	d := newFakeDevice(t, 0)
	p := d.peer()
	p.EventPT = 0
	rs.Start(p)
	if err := rs.SendDTMF('5'); err == nil {
		t.Error("DTMF accepted by a device without telephone-event")
	}
	rs.Start(d.peer()) // EventPT 101
	if err := rs.SendDTMF('x'); err == nil {
		t.Error("key x accepted")
	}
	for _, k := range []byte("5#") {
		if err := rs.SendDTMF(k); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two events with their ends", func() bool {
		ends := 0
		for _, p := range d.talkPackets() {
			if len(p.Payload) == 4 && p.Payload[1]&0x80 != 0 {
				ends++
			}
		}
		return ends == 6
	})
	pkts := d.talkPackets()
	var events []byte
	for i, p := range pkts {
		if p.PayloadType != 101 || p.SSRC != pkts[0].SSRC {
			t.Fatalf("packet %d: PT %d SSRC %x", i, p.PayloadType, p.SSRC)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("sequence %d after %d", p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		if p.Marker {
			events = append(events, p.Payload[0])
		}
		if i > 0 && !p.Marker && p.Timestamp != pkts[i-1].Timestamp {
			t.Fatalf("packet %d of an event changed timestamp", i)
		}
	}
	if string(events) != "\x05\x0b" {
		t.Errorf("events % x, want 05 0b", events)
	}
}

func TestReceiverReports(t *testing.T) {
	r := newTestRelay(t, Config{})
	r.reportInterval = 100 * time.Millisecond
	rs, d := startDevice(t, r, 0)
	waitFor(t, "a receiver report for the device's video", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, p := range d.rtcpPkts {
			if rr, ok := p.(*rtcp.ReceiverReport); ok && len(rr.Reports) == 1 && rr.Reports[0].SSRC == d.ssrcV.Load() {
				return true
			}
		}
		return false
	})
	if s := rs.Stats(); s.VideoLost != 0 || s.VideoPackets == 0 {
		t.Errorf("stats %+v", s)
	}
}
