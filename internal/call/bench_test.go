package call

import (
	"context"
	"testing"

	"linli/internal/storetest"
)

// BenchmarkDirectory measures what the SIP server asks at every REGISTER
// (Account of a device and of an app) and at every INVITE (Route to a room
// with a monitor and two app installations), on each backend.
func BenchmarkDirectory(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db := storetest.Open(b, be)
			w := newWorld(b, db)
			e := w.estate(b, "压测小区", "gw.example.com")
			w.resident(b, e.room0502, "张三", "13800000001", true, true)
			w.resident(b, e.room0502, "李四", "13800000002", true, false)
			_, accZ := w.signIn(b, "13800000001")
			w.signIn(b, "13800000002")
			door := w.account(b, dev(e.door1))
			ctx := context.Background()
			b.Run("account-device", func(b *testing.B) {
				for b.Loop() {
					if _, ok, err := w.dir.Account(ctx, dev(e.door1)); !ok || err != nil {
						b.Fatal(ok, err)
					}
				}
			})
			b.Run("account-app", func(b *testing.B) {
				for b.Loop() {
					if _, ok, err := w.dir.Account(ctx, accZ.Username); !ok || err != nil {
						b.Fatal(ok, err)
					}
				}
			})
			b.Run("route-room", func(b *testing.B) {
				for b.Loop() {
					if rt, err := w.dir.Route(ctx, door, "0502"); err != nil || len(rt.Branches) != 3 {
						b.Fatal(rt, err)
					}
				}
			})
		})
	}
}
