package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	pahosession "github.com/eclipse/paho.golang/paho/session"
)

// External is Linli's connection to an external MQTT 5 broker (Mosquitto
// with its dynamic security plugin). Devices log in to that broker with the
// credentials from binding: on every binding the server creates the
// device's broker account and a role that allows only its own topics, and
// removes both when the device is unbound. Several Linli instances may use
// one broker: they receive device status through a shared subscription, so
// each message is handled by exactly one of them.
type External struct {
	url     *url.URL
	cm      *autopaho.ConnectionManager
	devices Devices
	logger  *slog.Logger
	handled atomic.Int64
	// ups counts the connections made; a set-up that failed while a newer
	// connection came (or none is up) is done again on the newer one.
	ups atomic.Int64
	// resync checks device presence again after a lost session.
	resync resyncer

	mu      sync.Mutex
	waiting map[string]chan []controlResponse
}

// Topics of the broker side of the protocol. The server's role is
// versioned: a server that needs new rights adds its new role to the
// account (the broker then reconnects it).
const (
	shareGroup     = "linli"
	statusFilter   = "linli/+/device/+/status"
	eventsFilter   = "linli/+/device/+/events"
	controlTopic   = "$CONTROL/dynamic-security/v1"
	responseTopic  = controlTopic + "/response"
	serverRole     = "linli-server-2"
	controlTimeout = 10 * time.Second
)

// NewExternal returns the connection to the broker at rawURL
// (mqtt://user:password@host:port; the account must be the dynamic security
// administrator), made by Connect.
func NewExternal(rawURL string, logger *slog.Logger) (*External, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "mqtt" && u.Scheme != "tcp" && u.Scheme != "mqtts" && u.Scheme != "tls") {
		return nil, fmt.Errorf("LINLI_MQTT_URL %q: want mqtt://user:password@host:port", redact(rawURL))
	}
	return &External{url: u, logger: logger.With("part", "mqtt"), waiting: map[string]chan []controlResponse{}}, nil
}

// Connect connects to the broker and starts following the status and
// events of devices; after a lost session, presence resyncs them.
func (e *External) Connect(ctx context.Context, devices Devices, presence Presence) error {
	e.devices = devices
	e.resync.presence, e.resync.logger = presence, e.logger
	u := e.url
	password, _ := u.User.Password()
	host, _ := os.Hostname()
	clientID := fmt.Sprintf("linli-server-%s-%s", host, randomHex(4))
	up := make(chan error, 1)
	cfg := autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 30, CleanStartOnInitialConnection: true,
		ConnectUsername: u.User.Username(), ConnectPassword: []byte(password),
		ReconnectBackoff: autopaho.NewConstantBackoff(2 * time.Second), ConnectTimeout: 10 * time.Second,
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			// Subscribing waits for the broker, which answers on the
			// connection's own goroutine: do it elsewhere.
			gen := e.ups.Add(1)
			go func() {
				err := e.setUp(ctx, cm, u.User.Username())
				if errors.Is(err, errRoleAdded) {
					e.logger.Info("mqtt: gave the server's broker account the role " + serverRole)
					return
				}
				if err != nil && e.sessionEnded(err, gen) {
					// Another instance gave the shared account its role just
					// now, and the broker ended this session: set up again on
					// the next one.
					e.logger.Info("mqtt: the connection ended while setting up; again on the next one", "err", err)
					return
				}
				if err != nil {
					e.logger.Error("mqtt: set up after connecting", "err", err)
				} else {
					e.logger.Info("connected to the MQTT broker", "broker", u.Host)
					e.resync.ready(gen)
				}
				select {
				case up <- err:
				default:
				}
			}()
		},
		OnConnectError: func(err error) { e.logger.Warn("mqtt: cannot connect to the broker", "broker", u.Host, "err", err) },
		ClientConfig: paho.ClientConfig{ClientID: clientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){e.receive}},
		// A session that came up ended (not called on Close).
		OnConnectionDown: func() bool { e.resync.lost(time.Now(), e.ups.Load()); return true },
	}
	cm, err := autopaho.NewConnection(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return err
	}
	e.cm = cm
	wait, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	select {
	case err := <-up:
		if err != nil {
			_ = cm.Disconnect(context.Background())
			return err
		}
	case <-wait.Done():
		_ = cm.Disconnect(context.Background())
		return fmt.Errorf("mqtt: no connection to %s within 15 s (check LINLI_MQTT_URL and that the broker runs)", u.Host)
	}
	return nil
}

// sessionEnded says whether err came from the session numbered gen
// ending under the set-up: the broker closed it (it does so to every
// session of an account whose roles change), or a newer one was made
// meanwhile. Autopaho connects again, and the set-up runs on that session.
func (e *External) sessionEnded(err error, gen int64) bool {
	return e.ups.Load() != gen || errors.Is(err, autopaho.ConnectionDownError) || errors.Is(err, pahosession.ErrNoConnection) ||
		errors.Is(err, paho.ErrConnectionLost) || errors.Is(err, paho.ErrNetworkErrorAfterStored)
}

// errRoleAdded says that setUp gave the server's account its role; the
// broker then ends the session, and setUp runs again on the new one.
var errRoleAdded = errors.New("mqtt: role added, reconnecting")

// setUp gives the server's account the rights it needs (once; the broker
// disconnects an account whose roles change) and subscribes to device
// status (shared) and to the security plugin's answers.
func (e *External) setUp(ctx context.Context, cm *autopaho.ConnectionManager, admin string) error {
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: responseTopic, QoS: 1}}}); err != nil {
		return fmt.Errorf("subscribe %s: %w", responseTopic, err)
	}
	res, err := e.control(ctx, cm, []map[string]any{{"command": "getClient", "username": admin}})
	if err != nil {
		return err
	}
	if res[0].Error != "" {
		return fmt.Errorf("mqtt: getClient %s: %s (is the account in LINLI_MQTT_URL the dynamic security administrator?)", admin, res[0].Error)
	}
	var client struct {
		Client struct {
			Roles []struct{ Rolename string }
		}
	}
	_ = json.Unmarshal(res[0].Data, &client)
	hasRole := false
	for _, r := range client.Client.Roles {
		hasRole = hasRole || r.Rolename == serverRole
	}
	if !hasRole {
		res, err := e.control(ctx, cm, []map[string]any{
			{"command": "deleteRole", "rolename": serverRole},
			{"command": "createRole", "rolename": serverRole, "acls": []map[string]any{
				{"acltype": "publishClientSend", "topic": "linli/+/device/+/cmd", "allow": true},
				{"acltype": "subscribePattern", "topic": statusFilter, "allow": true},
				{"acltype": "publishClientReceive", "topic": statusFilter, "allow": true},
				{"acltype": "subscribePattern", "topic": eventsFilter, "allow": true},
				{"acltype": "publishClientReceive", "topic": eventsFilter, "allow": true},
			}},
			{"command": "addClientRole", "username": admin, "rolename": serverRole},
		})
		if err != nil {
			return err
		}
		for _, r := range res[1:] {
			if r.Error != "" {
				return fmt.Errorf("mqtt: %s %s: %s", r.Command, serverRole, r.Error)
			}
		}
		return errRoleAdded
	}
	suback, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: "$share/" + shareGroup + "/" + statusFilter, QoS: 1},
		{Topic: "$share/" + shareGroup + "/" + eventsFilter, QoS: 1},
	}})
	if err != nil {
		return fmt.Errorf("subscribe to device status: %w", err)
	}
	for _, r := range suback.Reasons {
		if r >= 0x80 {
			return fmt.Errorf("subscribe to device status and events refused: reason %#x", r)
		}
	}
	return nil
}

// Check says whether the connection to the broker is up. It waits a
// moment at most: a reconnecting client is not ready now.
func (e *External) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := e.cm.AwaitConnection(ctx); err != nil {
		return fmt.Errorf("mqtt: not connected to the broker: %w", err)
	}
	return nil
}

// Handled is how many device status messages this instance handled.
func (e *External) Handled() int64 { return e.handled.Load() }

func (e *External) receive(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	if p.Topic == responseTopic {
		var msg struct{ Responses []controlResponse }
		if json.Unmarshal(p.Payload, &msg) == nil && len(msg.Responses) > 0 {
			e.mu.Lock()
			ch := e.waiting[msg.Responses[0].CorrelationData]
			e.mu.Unlock()
			if ch != nil {
				ch <- msg.Responses
			}
		}
		return true, nil
	}
	if did, ok := deviceTopic(p.Topic, "events"); ok {
		// One instance of the shared subscription handles each answer;
		// the device service records it where every instance sees it.
		e.devices.DeviceMessage(context.Background(), did, p.Payload)
		return true, nil
	}
	did, ok := deviceTopic(p.Topic, "status")
	if !ok {
		return true, nil
	}
	online, ip, ok := parseStatus(p.Payload)
	if !ok {
		e.logger.Warn("mqtt: device status is not {\"online\":true|false}", "topic", p.Topic)
		return true, nil
	}
	e.handled.Add(1)
	e.devices.SetOnline(context.Background(), did, online, ip)
	return true, nil
}

// parseStatus reads a device's status message, {"online":true|false} with
// an optional "ip". An ip that is not an address is left out (the device
// record keeps addresses only, and would refuse the whole update), a zone
// is dropped; the presence counts either way.
func parseStatus(payload []byte) (online bool, ip string, ok bool) {
	var st struct {
		Online *bool  `json:"online"`
		IP     string `json:"ip"`
	}
	if err := json.Unmarshal(payload, &st); err != nil || st.Online == nil {
		return false, "", false
	}
	if a, err := netip.ParseAddr(st.IP); err == nil {
		ip = a.WithZone("").String()
	}
	return *st.Online, ip, true
}

// deviceTopic returns the device of linli/{community}/device/{device}/<leaf>.
// The broker lets a device publish only on its own status and events topics.
func deviceTopic(topic, leaf string) (did int, ok bool) {
	parts := strings.Split(topic, "/")
	if len(parts) != 5 || parts[0] != "linli" || parts[2] != "device" || parts[4] != leaf {
		return 0, false
	}
	did, err := strconv.Atoi(parts[3])
	return did, err == nil
}

type controlResponse struct {
	Command         string          `json:"command"`
	Error           string          `json:"error"`
	Data            json.RawMessage `json:"data"`
	CorrelationData string          `json:"correlationData"`
}

// control sends commands to the dynamic security plugin and waits for its
// answers (one per command).
func (e *External) control(ctx context.Context, cm *autopaho.ConnectionManager, cmds []map[string]any) ([]controlResponse, error) {
	id := randomHex(8)
	for _, c := range cmds {
		c["correlationData"] = id
	}
	ch := make(chan []controlResponse, 1)
	e.mu.Lock()
	e.waiting[id] = ch
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.waiting, id)
		e.mu.Unlock()
	}()
	payload, _ := json.Marshal(map[string]any{"commands": cmds})
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	if _, err := cm.Publish(ctx, &paho.Publish{Topic: controlTopic, QoS: 1, Payload: payload}); err != nil {
		return nil, fmt.Errorf("mqtt: send to the security plugin: %w", err)
	}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return nil, errors.New("mqtt: the broker's dynamic security plugin did not answer (is it loaded?)")
	}
}

// AddDevice creates (or replaces) the broker account of a device: username
// and client id dev-<id>, allowed to subscribe to its cmd topic and to
// publish on its status and events topics only. Replacing an account
// disconnects the device's old session.
func (e *External) AddDevice(ctx context.Context, d Device, username, password string) error {
	base := fmt.Sprintf("linli/%d/device/%d/", d.CommunityID, d.DeviceID)
	res, err := e.control(ctx, e.cm, []map[string]any{
		{"command": "deleteClient", "username": username},
		{"command": "deleteRole", "rolename": username},
		{"command": "createRole", "rolename": username, "acls": []map[string]any{
			{"acltype": "subscribePattern", "topic": base + "cmd", "allow": true},
			{"acltype": "publishClientSend", "topic": base + "status", "allow": true},
			{"acltype": "publishClientSend", "topic": base + "events", "allow": true},
		}},
		{"command": "createClient", "username": username, "password": password, "clientid": username,
			"roles": []map[string]any{{"rolename": username}}},
	})
	if err != nil {
		return err
	}
	for _, r := range res[min(2, len(res)):] {
		if r.Error != "" {
			return fmt.Errorf("mqtt: %s %s: %s", r.Command, username, r.Error)
		}
	}
	return nil
}

// RemoveDevice deletes a device's broker account, which also ends its session.
func (e *External) RemoveDevice(ctx context.Context, username string) error {
	res, err := e.control(ctx, e.cm, []map[string]any{
		{"command": "deleteClient", "username": username},
		{"command": "deleteRole", "rolename": username},
	})
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Error != "" && !strings.Contains(r.Error, "not found") {
			return fmt.Errorf("mqtt: %s %s: %s", r.Command, username, r.Error)
		}
	}
	return nil
}

// Publish sends payload to topic at qos (0 or 1), not retained; at QoS 1
// it returns once the broker has acknowledged it.
func (e *External) Publish(topic string, payload []byte, qos byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	_, err := e.cm.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: payload})
	return err
}

// Close disconnects from the broker.
func (e *External) Close() error {
	e.resync.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.cm.Disconnect(ctx)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redact hides the password of a broker URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
