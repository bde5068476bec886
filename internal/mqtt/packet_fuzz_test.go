package mqtt

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzPacket reads a packet from the fuzzer's bytes as the broker reads a
// device's, and decodes its body as every kind of packet in every protocol
// version: nothing panics, and a PUBLISH that decodes encodes back to the
// same topic and payload.
func FuzzPacket(f *testing.F) {
	f.Add(deviceA(version5).encode())
	f.Add(deviceA(version311).encode())
	f.Add(subscribePacket(version5, 1, "linli/7/device/41/cmd", "#"))
	f.Add(devicePublish(version5, "linli/7/device/41/events", `{"ok":true}`, 1, 3, false))
	f.Add([]byte{typePublish << 4, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := readPacket(bufio.NewReader(bytes.NewReader(data)), maxPacket)
		if err != nil {
			return
		}
		_, _ = parseConnect(h.body)
		for _, v := range []byte{version31, version311, version5} {
			if p, err := parsePublish(h, v); err == nil {
				again, err := parsePublish(mustRead(t, encodePublish(v, p.topic, p.payload, p.qos, p.packetID)), v)
				if err != nil || again.topic != p.topic || !bytes.Equal(again.payload, p.payload) {
					t.Fatalf("PUBLISH %+v encoded and read back as %+v (%v)", p, again, err)
				}
			}
			_, _, _ = parseSubscribe(h, v)
			_, _, _ = parseUnsubscribe(h, v)
			_ = parseDisconnect(h, v)
		}
		_, _ = parsePacketID(h, h.flags)
	})
}

func mustRead(t *testing.T, pk []byte) header {
	t.Helper()
	h, err := readPacket(bufio.NewReader(bytes.NewReader(pk)), len(pk))
	if err != nil {
		t.Fatal(err)
	}
	return h
}
