package fakecam

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"time"
)

// envelope is the part of a SOAP request the camera reads: the
// UsernameToken of WS-Security and the name of the operation.
type envelope struct {
	Header struct {
		Security struct {
			UsernameToken struct {
				Username string `xml:"Username"`
				Password string `xml:"Password"`
				Nonce    string `xml:"Nonce"`
				Created  string `xml:"Created"`
			} `xml:"UsernameToken"`
		} `xml:"Security"`
	} `xml:"Header"`
	Body struct {
		Op struct {
			XMLName xml.Name
			Inner   []byte `xml:",innerxml"`
		} `xml:",any"`
	} `xml:"Body"`
}

// read decodes the request's envelope; on failure it answers a fault.
func (c *Camera) read(w http.ResponseWriter, r *http.Request) (*envelope, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, false
	}
	var env envelope
	if err := xml.Unmarshal(data, &env); err != nil || env.Body.Op.XMLName.Local == "" {
		fault(w, http.StatusBadRequest, "ter:WellFormed", "not a SOAP envelope")
		return nil, false
	}
	return &env, true
}

// authorized checks the UsernameToken digest:
// Base64(SHA1(Base64Decode(Nonce) + Created + Password)).
func (c *Camera) authorized(env *envelope) bool {
	t := env.Header.Security.UsernameToken
	if t.Username != c.cfg.Username || t.Password == "" {
		return false
	}
	nonce, err := base64.StdEncoding.DecodeString(t.Nonce)
	if err != nil {
		return false
	}
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(t.Created))
	h.Write([]byte(c.cfg.Password))
	want := base64.StdEncoding.EncodeToString(h.Sum(nil))
	return subtle.ConstantTimeCompare([]byte(want), []byte(t.Password)) == 1
}

func (c *Camera) deviceService(w http.ResponseWriter, r *http.Request) {
	env, ok := c.read(w, r)
	if !ok {
		return
	}
	op := env.Body.Op.XMLName.Local
	if op == "GetSystemDateAndTime" { // ONVIF: answered without credentials
		now := time.Now().UTC()
		reply(w, fmt.Sprintf(`<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>
<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>
<tt:UTCDateTime><tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute><tt:Second>%d</tt:Second></tt:Time>
<tt:Date><tt:Year>%d</tt:Year><tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date></tt:UTCDateTime>
</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`, now.Hour(), now.Minute(), now.Second(), now.Year(), now.Month(), now.Day()))
		return
	}
	if !c.authorized(env) {
		fault(w, http.StatusUnauthorized, "ter:NotAuthorized", "Sender not authorized")
		return
	}
	base := "http://" + r.Host
	switch op {
	case "GetCapabilities":
		reply(w, `<tds:GetCapabilitiesResponse><tds:Capabilities>
<tt:Device><tt:XAddr>`+base+`/onvif/device_service</tt:XAddr></tt:Device>
<tt:Media><tt:XAddr>`+base+`/onvif/media_service</tt:XAddr>
<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>
</tds:Capabilities></tds:GetCapabilitiesResponse>`)
	case "GetServices":
		reply(w, `<tds:GetServicesResponse>
<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace><tds:XAddr>`+base+`/onvif/device_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>
<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace><tds:XAddr>`+base+`/onvif/media_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>
</tds:GetServicesResponse>`)
	case "GetDeviceInformation":
		reply(w, `<tds:GetDeviceInformationResponse><tds:Manufacturer>Linli</tds:Manufacturer>
<tds:Model>FakeCam-1</tds:Model><tds:FirmwareVersion>1.0.0</tds:FirmwareVersion>
<tds:SerialNumber>FC-`+html.EscapeString(c.cfg.Name)+`</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse>`)
	default:
		fault(w, http.StatusBadRequest, "ter:ActionNotSupported", op+" is not supported")
	}
}

func (c *Camera) mediaService(w http.ResponseWriter, r *http.Request) {
	env, ok := c.read(w, r)
	if !ok {
		return
	}
	if !c.authorized(env) {
		fault(w, http.StatusUnauthorized, "ter:NotAuthorized", "Sender not authorized")
		return
	}
	switch op := env.Body.Op.XMLName.Local; op {
	case "GetProfiles":
		encoding := "H264"
		if c.cfg.NoH264 {
			encoding = "JPEG"
		}
		reply(w, `<trt:GetProfilesResponse><trt:Profiles token="main" fixed="true"><tt:Name>mainStream</tt:Name>
<tt:VideoSourceConfiguration token="vsc"><tt:Name>vsc</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>vs</tt:SourceToken><tt:Bounds x="0" y="0" width="640" height="480"/></tt:VideoSourceConfiguration>
<tt:VideoEncoderConfiguration token="vec"><tt:Name>vec</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>`+encoding+`</tt:Encoding>
<tt:Resolution><tt:Width>640</tt:Width><tt:Height>480</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>
<tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>1024</tt:BitrateLimit></tt:RateControl>
<tt:H264><tt:GovLength>25</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264></tt:VideoEncoderConfiguration>
</trt:Profiles></trt:GetProfilesResponse>`)
	case "GetStreamUri":
		reply(w, `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>`+html.EscapeString(c.RTSPURL())+`</tt:Uri>
<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`)
	case "GetSnapshotUri":
		reply(w, `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>http://`+html.EscapeString(r.Host)+`/snapshot.jpg</tt:Uri>
<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`)
	default:
		fault(w, http.StatusBadRequest, "ter:ActionNotSupported", op+" is not supported")
	}
}

const envelopeHead = `<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema"
 xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl"
 xmlns:ter="http://www.onvif.org/ver10/error"><s:Body>`

const envelopeTail = `</s:Body></s:Envelope>`

func reply(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	_, _ = io.WriteString(w, envelopeHead+body+envelopeTail)
}

func fault(w http.ResponseWriter, status int, subcode, reason string) {
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, envelopeHead+`<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>`+subcode+
		`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">`+html.EscapeString(reason)+`</s:Text></s:Reason></s:Fault>`+envelopeTail)
}
