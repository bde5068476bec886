// Package ipcam talks to IP cameras: ONVIF (github.com/use-go/onvif) to
// read what a camera is and where its stream and snapshot are, HTTP to
// fetch a snapshot (digest or basic authentication), and RTSP
// (github.com/bluenviron/gortsplib) to pull its H.264 and G.711 RTP. It is
// the only package that imports those libraries; it knows nothing of the
// database or HTTP API.
//
// Only the host that staff typed is ever contacted: service, stream and
// snapshot addresses a camera reports keep their port and path but get the
// typed host, and redirects are not followed.
package ipcam

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/use-go/onvif"
	"github.com/use-go/onvif/device"
	"github.com/use-go/onvif/media"
	xsdonvif "github.com/use-go/onvif/xsd/onvif"
)

// Errors of Probe.
var (
	ErrAddress     = errors.New("ipcam: bad address")
	ErrUnreachable = errors.New("ipcam: camera unreachable")
	ErrAuth        = errors.New("ipcam: wrong username or password")
	ErrNotONVIF    = errors.New("ipcam: not an ONVIF device")
	ErrNoH264      = errors.New("ipcam: no H.264 profile")
)

// Timeout bounds each request to a camera.
const Timeout = 5 * time.Second

// Info is what a camera told about itself.
type Info struct {
	Manufacturer, Model, Firmware, Serial string
	ProfileToken                          string
	StreamURI                             string // rtsp://host:port/path, without credentials
	SnapshotURI                           string // http(s)://host:port/path, or "" when the camera has none
	Width, Height                         int
	VideoCodec                            string // H264
	AudioCodec                            string // G711, AAC, … or ""
}

// Host returns the host:port of the ONVIF service from what staff typed:
// host, host:port (port 80 when missing) or an http URL. Credentials,
// queries and other schemes are refused.
func Host(address string) (string, error) {
	a := strings.TrimSpace(address)
	if a == "" {
		return "", ErrAddress
	}
	if strings.Contains(a, "://") {
		u, err := url.Parse(a)
		if err != nil || u.Scheme != "http" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
			return "", ErrAddress
		}
		a = u.Host
	}
	if strings.ContainsAny(a, "/?#@ ") {
		return "", ErrAddress
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = a, "80"
		if strings.Contains(a, ":") && !strings.HasPrefix(a, "[") {
			return "", ErrAddress
		}
		host = strings.Trim(host, "[]")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || !validHost(host) {
		return "", ErrAddress
	}
	return net.JoinHostPort(host, port), nil
}

// validHost accepts an IP address or a DNS name.
func validHost(h string) bool {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Zone() == ""
	}
	if h == "" || len(h) > 253 || strings.HasPrefix(h, "-") || strings.HasPrefix(h, ".") {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// httpClient is a client that follows no redirects, gives up after Timeout
// and connects under the guard as ctx allows (the ONVIF library makes
// requests of its own without ctx).
func httpClient(ctx context.Context) *http.Client {
	loopback := loopbackAllowed(ctx)
	dial := func(c context.Context, network, address string) (net.Conn, error) {
		if loopback {
			c = AllowLoopback(c)
		}
		return dialer.DialContext(c, network, address)
	}
	return &http.Client{
		Timeout:   Timeout,
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Probe asks the camera at hostport (see Host) what it is, with the
// credentials given. Errors: ErrUnreachable, ErrNotONVIF, ErrAuth, ErrNoH264,
// or another error for an answer it cannot read.
func Probe(ctx context.Context, hostport, username, password string) (*Info, error) {
	client := httpClient(ctx)
	if err := ping(ctx, client, hostport); err != nil {
		return nil, err
	}
	dev, err := onvif.NewDevice(onvif.DeviceParams{Xaddr: hostport, Username: username, Password: password, HttpClient: client})
	if err != nil {
		// It answered GetSystemDateAndTime, so it is ONVIF: the credentials
		// were refused.
		return nil, ErrAuth
	}
	info := &Info{}
	var di struct {
		R struct {
			Manufacturer, Model, FirmwareVersion, SerialNumber string
		} `xml:"Body>GetDeviceInformationResponse"`
	}
	if err := call(dev, device.GetDeviceInformation{}, &di); err != nil {
		return nil, err
	}
	info.Manufacturer, info.Model, info.Firmware, info.Serial = di.R.Manufacturer, di.R.Model, di.R.FirmwareVersion, di.R.SerialNumber
	var ps struct {
		R struct {
			Profiles []struct {
				Token string `xml:"token,attr"`
				Video *struct {
					Encoding   string
					Resolution struct{ Width, Height int }
				} `xml:"VideoEncoderConfiguration"`
				Audio *struct{ Encoding string } `xml:"AudioEncoderConfiguration"`
			} `xml:"Profiles"`
		} `xml:"Body>GetProfilesResponse"`
	}
	if err := call(dev, media.GetProfiles{}, &ps); err != nil {
		return nil, err
	}
	for _, p := range ps.R.Profiles {
		if p.Video != nil && strings.EqualFold(p.Video.Encoding, "H264") && p.Token != "" {
			info.ProfileToken, info.Width, info.Height, info.VideoCodec = p.Token, p.Video.Resolution.Width, p.Video.Resolution.Height, "H264"
			if p.Audio != nil {
				info.AudioCodec = strings.ToUpper(p.Audio.Encoding)
			}
			break
		}
	}
	if info.ProfileToken == "" {
		return nil, ErrNoH264
	}
	token := xsdonvif.ReferenceToken(info.ProfileToken)
	var su struct {
		URI string `xml:"Body>GetStreamUriResponse>MediaUri>Uri"`
	}
	req := media.GetStreamUri{ProfileToken: token, StreamSetup: xsdonvif.StreamSetup{Stream: "RTP-Unicast",
		Transport: xsdonvif.Transport{Protocol: "RTSP"}}}
	if err := call(dev, req, &su); err != nil {
		return nil, err
	}
	if info.StreamURI, err = onHost(su.URI, hostport, "rtsp", "554"); err != nil {
		return nil, fmt.Errorf("ipcam: stream uri %q: %w", su.URI, err)
	}
	var sn struct {
		URI string `xml:"Body>GetSnapshotUriResponse>MediaUri>Uri"`
	}
	if err := call(dev, media.GetSnapshotUri{ProfileToken: token}, &sn); err == nil && sn.URI != "" {
		if u, err := onHost(sn.URI, hostport, "http", "80"); err == nil {
			info.SnapshotURI = u
		}
	}
	return info, nil
}

// ping posts GetSystemDateAndTime, which ONVIF devices answer without
// credentials: it tells an unreachable host from a device that is no
// ONVIF camera.
func ping(ctx context.Context, client *http.Client, hostport string) error {
	body := `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>` +
		`<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+hostport+"/onvif/device_service", strings.NewReader(body))
	if err != nil {
		return ErrAddress
	}
	req.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusUnauthorized && bytes.Contains(data, []byte("Envelope")) {
		return nil // some cameras want credentials even for the time
	}
	if !bytes.Contains(data, []byte("GetSystemDateAndTimeResponse")) {
		return ErrNotONVIF
	}
	return nil
}

// call calls an ONVIF method and decodes the answer into out. A SOAP fault
// about authorization or HTTP 401 is ErrAuth.
func call(dev *onvif.Device, method any, out any) error {
	resp, err := dev.CallMethod(method)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if resp.StatusCode == http.StatusUnauthorized || bytes.Contains(data, []byte("NotAuthorized")) {
		return ErrAuth
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %T answered HTTP %d", ErrNotONVIF, method, resp.StatusCode)
	}
	if err := xml.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrNotONVIF, method, err)
	}
	return nil
}

// onHost returns uri with its host replaced by the host of hostport (its
// port kept, defaultPort when it has none) and no credentials: the server
// only ever talks to the host staff typed.
func onHost(uri, hostport, scheme, defaultPort string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(u.Scheme, scheme) && !(scheme == "http" && strings.EqualFold(u.Scheme, "https")) {
		return "", fmt.Errorf("scheme %q", u.Scheme)
	}
	host, _, _ := net.SplitHostPort(hostport)
	port := u.Port()
	if port == "" {
		port = defaultPort
		if strings.EqualFold(u.Scheme, "https") {
			port = "443"
		}
	}
	u.User = nil
	u.Host = net.JoinHostPort(host, port)
	return u.String(), nil
}
