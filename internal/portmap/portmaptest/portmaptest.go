// Package portmaptest runs fake home routers on loopback for tests: a UPnP
// IGD (an SSDP responder plus the device description and a SOAP control
// endpoint for WANIPConnection:1) and a NAT-PMP server. Nothing here sends
// a packet anywhere but to 127.0.0.0/8.
package portmaptest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ExternalIP is the address both fakes report as the router's external
// one (TEST-NET-3).
const ExternalIP = "203.0.113.7"

// Mapping is a port mapping the fake router holds.
type Mapping struct {
	Protocol       string // "tcp" or "udp"
	ExternalPort   int
	InternalPort   int
	InternalClient string // UPnP only
	Lease          time.Duration
}

// Router is the state the fakes share: the mappings held, and counters.
type Router struct {
	mu       sync.Mutex
	mappings map[string]Mapping // by protocol and external port
	adds     int
	deletes  int
	refuse   int // UPnP error code (or NAT-PMP result code) to refuse adds with; 0 accepts
	lease    time.Duration
	permOnly bool // UPnP: refuse a lease with error 725
}

// SetPermanentOnly makes the UPnP router refuse any lease but 0 with
// error 725 (OnlyPermanentLeasesSupported), as older routers do.
func (r *Router) SetPermanentOnly(on bool) {
	r.mu.Lock()
	r.permOnly = on
	r.mu.Unlock()
}

// SetRefuse makes the router refuse every later add with code (a UPnP
// error code such as 718, or a NAT-PMP result code such as 2); 0 accepts.
func (r *Router) SetRefuse(code int) {
	r.mu.Lock()
	r.refuse = code
	r.mu.Unlock()
}

// SetMaxLease caps the leases the router grants (0 grants what is asked).
func (r *Router) SetMaxLease(d time.Duration) {
	r.mu.Lock()
	r.lease = d
	r.mu.Unlock()
}

// Mappings returns the mappings held now.
func (r *Router) Mappings() []Mapping {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Mapping, 0, len(r.mappings))
	for _, m := range r.mappings {
		out = append(out, m)
	}
	return out
}

// Adds returns how many add requests the router accepted; Deletes how
// many mappings it removed on request.
func (r *Router) Adds() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.adds
}

// Deletes returns how many mappings the router removed on request.
func (r *Router) Deletes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deletes
}

func key(proto string, ext int) string { return proto + "/" + strconv.Itoa(ext) }

// add records a mapping and returns the lease granted, or the refusal code.
func (r *Router) add(m Mapping) (time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != 0 {
		return 0, r.refuse
	}
	if r.lease > 0 && (m.Lease == 0 || m.Lease > r.lease) {
		m.Lease = r.lease
	}
	if r.mappings == nil {
		r.mappings = map[string]Mapping{}
	}
	r.mappings[key(m.Protocol, m.ExternalPort)] = m
	r.adds++
	return m.Lease, 0
}

func (r *Router) remove(proto string, ext, internal int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, m := range r.mappings {
		if m.Protocol == proto && (m.ExternalPort == ext || (ext == 0 && m.InternalPort == internal)) {
			delete(r.mappings, k)
			r.deletes++
			return true
		}
	}
	return false
}

// IGD is a fake UPnP Internet Gateway Device.
type IGD struct {
	Router
	// SSDPAddr is where the SSDP responder listens (Config.SSDPAddr).
	SSDPAddr string
	// Searches counts the M-SEARCH requests received.
	searches int
}

// Searches returns how many SSDP searches reached the responder.
func (g *IGD) Searches() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.searches
}

const wanIP1 = "urn:schemas-upnp-org:service:WANIPConnection:1"

const deviceXML = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>portmaptest router</friendlyName><UDN>uuid:portmaptest-igd</UDN>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><UDN>uuid:portmaptest-wan</UDN>
<deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><UDN>uuid:portmaptest-conn</UDN>
<serviceList><service>
<serviceType>` + wanIP1 + `</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
<SCPDURL>/scpd.xml</SCPDURL><controlURL>/control</controlURL><eventSubURL>/event</eventSubURL>
</service></serviceList>
</device></deviceList>
</device></deviceList>
</device>
</root>`

var argRe = regexp.MustCompile(`<(New[A-Za-z]+)>([^<]*)</New[A-Za-z]+>`)

// NewIGD starts a fake IGD on loopback; it stops with the test.
func NewIGD(t testing.TB) *IGD {
	t.Helper()
	g := &IGD{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /desc.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		io.WriteString(w, deviceXML)
	})
	mux.HandleFunc("POST /control", g.control)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	location := srv.URL + "/desc.xml"

	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	g.SSDPAddr = pc.LocalAddr().String()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(buf[:n])))
			if err != nil || req.Method != "M-SEARCH" {
				continue
			}
			st := req.Header.Get("ST")
			g.mu.Lock()
			g.searches++
			g.mu.Unlock()
			if st != wanIP1 && st != "ssdp:all" && st != "upnp:rootdevice" {
				continue
			}
			resp := "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nEXT:\r\nLOCATION: " + location +
				"\r\nSERVER: portmaptest UPnP/1.1\r\nST: " + st + "\r\nUSN: uuid:portmaptest-conn::" + st + "\r\n\r\n"
			pc.WriteTo([]byte(resp), from)
		}
	}()
	return g
}

func (g *IGD) control(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	action := r.Header.Get("SOAPAction")
	action = strings.Trim(action, `"`)
	_, name, _ := strings.Cut(action, "#")
	args := map[string]string{}
	for _, m := range argRe.FindAllSubmatch(body, -1) {
		args[string(m[1])] = string(m[2])
	}
	switch name {
	case "GetExternalIPAddress":
		soapOK(w, name, "<NewExternalIPAddress>"+ExternalIP+"</NewExternalIPAddress>")
	case "AddPortMapping":
		ext, _ := strconv.Atoi(args["NewExternalPort"])
		in, _ := strconv.Atoi(args["NewInternalPort"])
		lease, _ := strconv.Atoi(args["NewLeaseDuration"])
		g.mu.Lock()
		permOnly := g.permOnly
		g.mu.Unlock()
		if permOnly && lease != 0 {
			soapFault(w, 725)
			return
		}
		_, code := g.add(Mapping{Protocol: strings.ToLower(args["NewProtocol"]), ExternalPort: ext, InternalPort: in,
			InternalClient: args["NewInternalClient"], Lease: time.Duration(lease) * time.Second})
		if code != 0 {
			soapFault(w, code)
			return
		}
		soapOK(w, name, "")
	case "DeletePortMapping":
		ext, _ := strconv.Atoi(args["NewExternalPort"])
		if !g.remove(strings.ToLower(args["NewProtocol"]), ext, -1) {
			soapFault(w, 714) // NoSuchEntryInArray
			return
		}
		soapOK(w, name, "")
	default:
		soapFault(w, 401) // Invalid Action
	}
}

func soapOK(w http.ResponseWriter, action, inner string) {
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	fmt.Fprintf(w, `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:%sResponse xmlns:u="%s">%s</u:%sResponse></s:Body></s:Envelope>`,
		action, wanIP1, inner, action)
}

func soapFault(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>%d</errorCode><errorDescription>refused by portmaptest</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`, code)
}

// NATPMP is a fake NAT-PMP server (RFC 6886), or with NewPCP a PCP-only
// server (RFC 6887) that answers NAT-PMP requests with PCP's
// UNSUPP_VERSION.
type NATPMP struct {
	Router
	// Gateway is its IP address (Config.NATPMPGateway): a 127.0.0.0/8
	// address of its own, since the protocol fixes the port at 5351.
	Gateway string
	pcp     bool
}

// NewPCP starts a fake PCP-only server on a loopback address of its own;
// it stops with the test.
func NewPCP(t testing.TB) *NATPMP { return newServer(t, true) }

// NATPMPPort is the port NAT-PMP servers listen on.
const NATPMPPort = 5351

// NewNATPMP starts a fake NAT-PMP server on a loopback address of its
// own; it stops with the test.
func NewNATPMP(t testing.TB) *NATPMP { return newServer(t, false) }

func newServer(t testing.TB, pcp bool) *NATPMP {
	t.Helper()
	var pc net.PacketConn
	var err error
	for i := range 50 {
		ip := fmt.Sprintf("127.53.%d.%d", 1+(time.Now().UnixNano()>>8)%250, 1+i)
		pc, err = net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(NATPMPPort)))
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("no loopback address free for a NAT-PMP server: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	s := &NATPMP{Gateway: pc.LocalAddr().(*net.UDPAddr).IP.String(), pcp: pcp}
	start := time.Now()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := s.answer(buf[:n], uint32(time.Since(start)/time.Second)); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return s
}

func (s *NATPMP) answer(req []byte, epoch uint32) []byte {
	if s.pcp {
		return s.answerPCP(req, epoch)
	}
	if len(req) < 2 || req[0] != 0 {
		return nil
	}
	op := req[1]
	switch {
	case op == 0 && len(req) == 2:
		resp := make([]byte, 12)
		resp[1] = 128
		binary.BigEndian.PutUint32(resp[4:], epoch)
		copy(resp[8:], net.ParseIP(ExternalIP).To4())
		return resp
	case (op == 1 || op == 2) && len(req) == 12:
		proto := "udp"
		if op == 2 {
			proto = "tcp"
		}
		in := int(binary.BigEndian.Uint16(req[4:]))
		ext := int(binary.BigEndian.Uint16(req[6:]))
		life := binary.BigEndian.Uint32(req[8:])
		resp := make([]byte, 16)
		resp[1] = 128 + op
		binary.BigEndian.PutUint32(resp[4:], epoch)
		binary.BigEndian.PutUint16(resp[8:], uint16(in))
		if life == 0 {
			s.remove(proto, 0, in)
			return resp
		}
		if ext == 0 {
			ext = in
		}
		granted, code := s.add(Mapping{Protocol: proto, ExternalPort: ext, InternalPort: in, Lease: time.Duration(life) * time.Second})
		if code != 0 {
			binary.BigEndian.PutUint16(resp[2:], uint16(code))
			return resp
		}
		binary.BigEndian.PutUint16(resp[10:], uint16(ext))
		binary.BigEndian.PutUint32(resp[12:], uint32(granted/time.Second))
		return resp
	}
	return nil
}

// answerPCP answers a PCP request (ANNOUNCE or MAP); a NAT-PMP request
// gets UNSUPP_VERSION in PCP's format.
func (s *NATPMP) answerPCP(req []byte, epoch uint32) []byte {
	if len(req) < 2 {
		return nil
	}
	resp := make([]byte, 24)
	resp[0], resp[1] = 2, req[1]|0x80
	binary.BigEndian.PutUint32(resp[8:], epoch)
	if req[0] != 2 || len(req) < 24 {
		resp[3] = 1 // UNSUPP_VERSION
		return resp
	}
	switch req[1] {
	case 0: // ANNOUNCE
		return resp
	case 1: // MAP
		if len(req) < 60 {
			resp[3] = 3 // MALFORMED_REQUEST
			return resp
		}
		m := req[24:60]
		proto := "tcp"
		if m[12] == 17 {
			proto = "udp"
		}
		in := int(binary.BigEndian.Uint16(m[16:]))
		ext := int(binary.BigEndian.Uint16(m[18:]))
		life := binary.BigEndian.Uint32(req[4:])
		out := append(resp, m...)
		if life == 0 {
			s.remove(proto, 0, in)
			return out
		}
		if ext == 0 {
			ext = in
		}
		granted, code := s.add(Mapping{Protocol: proto, ExternalPort: ext, InternalPort: in, Lease: time.Duration(life) * time.Second})
		if code != 0 {
			out[3] = byte(code)
			return out
		}
		binary.BigEndian.PutUint32(out[4:], uint32(granted/time.Second))
		binary.BigEndian.PutUint16(out[24+18:], uint16(ext))
		ip := net.ParseIP(ExternalIP).To16()
		copy(out[24+20:], ip)
		return out
	}
	resp[3] = 4 // UNSUPP_OPCODE
	return resp
}
