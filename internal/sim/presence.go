package sim

import (
	"context"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// announce answers the server's status command: {"online": true} on the
// status topic, as after connecting. It publishes outside the MQTT
// client's receive path, which must stay free to read the broker's
// acknowledgement.
func (d *Device) announce() {
	d.mu.Lock()
	c := d.client
	d.mu.Unlock()
	if c == nil {
		return
	}
	d.owned.Add(1)
	go func() {
		defer d.owned.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.Publish(ctx, &paho.Publish{Topic: d.cred.MQTT.StatusTopic, QoS: 1, Payload: []byte(`{"online":true}`)}); err != nil {
			d.logger.Warn("answer the status command", "device", d.cred.DeviceID, "err", err)
		}
	}()
}
