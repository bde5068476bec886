package app_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"linli/internal/apptest"
	"linli/internal/sip/ua"
	"linli/internal/storetest"
)

// BenchmarkGlassToGlass measures, over 20 calls from the simulated door
// station to a 门口呼叫 page (a pion PeerConnection as the browser):
//   - setup: from the door's INVITE to the first complete keyframe at the
//     page's WebRTC stack (the first picture a decoder can show);
//   - talk: from 接听 (the page's accept) to the first packet of the page's
//     microphone at the door station (two-way audio).
//
// Run: go test -run '^$' -bench GlassToGlass -benchtime 1x ./internal/app/
func BenchmarkGlassToGlass(b *testing.B) {
	for range b.N {
		glassToGlass(b, 20)
	}
}

func glassToGlass(b *testing.B, calls int) {
	s := apptest.Start(b, storetest.Backends()[0])
	a := s.NewCommunity(b, s.Operator(), "测速小区", "GG")
	door := startDoor(b, s, a, "pwGGx9", "SIM-GG-DOOR")
	page := openPage(b, s, staffTicket(b, a.Manager, a.ID))
	var setup, talk []time.Duration
	ctx := context.Background()
	for i := range calls {
		t0 := time.Now()
		if _, err := door.PlaceCall(ctx, "9900"); err != nil {
			b.Fatal(err)
		}
		ring := page.expect("ring")
		var first atomic.Int64
		peer := page.offerWatch(ring.Call, func(p *rtp.Packet, idrSeen bool) {
			if idrSeen && p.Marker {
				first.CompareAndSwap(0, time.Now().UnixNano())
			}
		})
		for first.Load() == 0 {
			if time.Since(t0) > 20*time.Second {
				b.Fatalf("call %d: no keyframe", i)
			}
			time.Sleep(time.Millisecond)
		}
		setup = append(setup, time.Duration(first.Load()-t0.UnixNano()))
		t1 := time.Now()
		page.send(wsMsg{Type: "accept", Call: ring.Call})
		page.expect("accepted")
		peer.talking.Store(true)
		for {
			c := door.Status().SIP.Calls
			if last := c[len(c)-1]; last.State == ua.StateAnswered && last.PacketsReceived > 0 {
				break
			}
			if time.Since(t1) > 20*time.Second {
				b.Fatalf("call %d: no audio at the door", i)
			}
			time.Sleep(time.Millisecond)
		}
		talk = append(talk, time.Since(t1))
		page.send(wsMsg{Type: "hangup", Call: ring.Call})
		page.expect("ended")
		peer.close()
		for {
			c := door.Status().SIP.Calls
			if c[len(c)-1].State == ua.StateEnded {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		p50, p95 := d[len(d)/2], d[(len(d)*95+99)/100-1]
		b.ReportMetric(float64(p50.Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(p95.Microseconds())/1000, name+"-p95-ms")
	}
	report("invite-to-keyframe", setup)
	report("accept-to-2way-audio", talk)
}
