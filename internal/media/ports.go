package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
)

// portPool hands out RTP/RTCP socket pairs (RTP on an even port, RTCP on
// the next) from [min, max], skipping ports that something else holds.
// With min = max = 0 the system chooses.
type portPool struct {
	ip       netip.Addr
	min, max int

	mu   sync.Mutex
	next int          // next even port to try
	used map[int]bool // RTP ports of pairs we hold
}

func newPortPool(ip netip.Addr, min, max int) *portPool {
	if min%2 == 1 {
		min++
	}
	return &portPool{ip: ip, min: min, max: max, next: min, used: map[int]bool{}}
}

// pair is one allocated RTP/RTCP socket pair.
type pair struct{ rtp, rtcp *net.UDPConn }

// alloc binds a pair. It returns a *portError when the range is full.
func (p *portPool) alloc() (pair, error) {
	if p.min == 0 && p.max == 0 {
		return p.allocEphemeral()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	span := (p.max - p.min + 1) / 2
	for range span {
		port := p.next
		p.next += 2
		if p.next+1 > p.max {
			p.next = p.min
		}
		if p.used[port] {
			continue
		}
		pr, err := p.bind(port)
		if err != nil {
			continue // held by another process or by ICE: skip
		}
		p.used[port] = true
		return pr, nil
	}
	return pair{}, &portError{min: p.min, max: p.max}
}

// allocEphemeral lets the system choose an even port whose successor is
// free; after a few tries any free pair will do.
func (p *portPool) allocEphemeral() (pair, error) {
	var lastErr error
	for try := range 20 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, 0)))
		if err != nil {
			return pair{}, err
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 1 && try < 10 {
			_ = c.Close()
			continue
		}
		c2, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port+1))))
		if err != nil {
			_ = c.Close()
			lastErr = err
			continue
		}
		p.mu.Lock()
		p.used[port] = true
		p.mu.Unlock()
		return pair{rtp: c, rtcp: c2}, nil
	}
	if lastErr == nil {
		lastErr = errors.New("no port pair")
	}
	return pair{}, lastErr
}

func (p *portPool) bind(port int) (pair, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
	if err != nil {
		return pair{}, err
	}
	c2, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port+1))))
	if err != nil {
		_ = c.Close()
		return pair{}, err
	}
	return pair{rtp: c, rtcp: c2}, nil
}

// free closes the pair and returns its ports to the pool.
func (p *portPool) free(pr pair) {
	if pr.rtp == nil {
		return
	}
	port := pr.rtp.LocalAddr().(*net.UDPAddr).Port
	_ = pr.rtp.Close()
	_ = pr.rtcp.Close()
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}

// inUse counts the ports held (two per pair).
func (p *portPool) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return 2 * len(p.used)
}
