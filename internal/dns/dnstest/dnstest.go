// Package dnstest runs a small authoritative DNS server on 127.0.0.1 for
// tests: UDP and TCP on the same port, records given in zone-file form,
// and per-name faults (an error rcode, truncated UDP answers, no answer at
// all). It records every query it gets.
package dnstest

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// Server is a running test DNS server.
type Server struct {
	// Addr is "127.0.0.1:port", for UDP and TCP alike.
	Addr string

	udp, tcp *mdns.Server

	mu       sync.Mutex
	records  map[string][]mdns.RR // by lower-case owner name
	rcodes   map[string]int
	truncate map[string]bool
	silent   map[string]bool
	queries  []string
}

// Start starts a server on a free port of 127.0.0.1.
func Start() (*Server, error) {
	s := &Server{
		records:  map[string][]mdns.RR{},
		rcodes:   map[string]int{},
		truncate: map[string]bool{},
		silent:   map[string]bool{},
	}
	// The TCP listener must get the port the UDP socket got; another
	// process may hold it, so try a few ports.
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			lastErr = err
			continue
		}
		s.Addr = pc.LocalAddr().String()
		h := mdns.HandlerFunc(s.serve)
		s.udp = &mdns.Server{PacketConn: pc, Handler: h}
		s.tcp = &mdns.Server{Listener: l, Handler: h}
		started := make(chan struct{}, 2)
		s.udp.NotifyStartedFunc = func() { started <- struct{}{} }
		s.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
		go s.udp.ActivateAndServe()
		go s.tcp.ActivateAndServe()
		for range 2 {
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				s.Close()
				return nil, errors.New("dnstest: server did not start")
			}
		}
		return s, nil
	}
	return nil, fmt.Errorf("dnstest: no port free for both UDP and TCP: %w", lastErr)
}

// Close stops the server.
func (s *Server) Close() {
	if s.udp != nil {
		s.udp.Shutdown()
	}
	if s.tcp != nil {
		s.tcp.Shutdown()
	}
}

// Add adds records in zone-file form ("contoso.test. 300 IN MX 10
// mx.contoso.test."). Names without a trailing dot are taken as absolute.
func (s *Server) Add(lines ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range lines {
		rr, err := mdns.NewRR(line)
		if err != nil {
			return fmt.Errorf("dnstest: %q: %w", line, err)
		}
		if rr == nil {
			continue
		}
		name := strings.ToLower(mdns.Fqdn(rr.Header().Name))
		rr.Header().Name = name
		s.records[name] = append(s.records[name], rr)
	}
	return nil
}

// MustAdd is Add that panics on a malformed record.
func (s *Server) MustAdd(lines ...string) {
	if err := s.Add(lines...); err != nil {
		panic(err)
	}
}

// SetRcode makes every query for name get rcode (mdns.RcodeServerFailure...).
func (s *Server) SetRcode(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcodes[strings.ToLower(mdns.Fqdn(name))] = rcode
}

// Truncate makes UDP answers for name come back empty with the TC bit
// set, so that the client must ask again over TCP.
func (s *Server) Truncate(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate[strings.ToLower(mdns.Fqdn(name))] = true
}

// Silence makes the server never answer queries for name.
func (s *Server) Silence(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent[strings.ToLower(mdns.Fqdn(name))] = true
}

// Queries returns every query received, as "udp MX contoso.test.".
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func (s *Server) serve(w mdns.ResponseWriter, req *mdns.Msg) {
	if len(req.Question) != 1 {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	transport := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		transport = "tcp"
	}
	s.mu.Lock()
	s.queries = append(s.queries, fmt.Sprintf("%s %s %s", transport, mdns.TypeToString[q.Qtype], name))
	silent, truncate := s.silent[name], s.truncate[name]
	rcode, hasRcode := s.rcodes[name]
	var answer []mdns.RR
	_, exists := s.records[name]
	for _, rr := range s.records[name] {
		if rr.Header().Rrtype == q.Qtype {
			answer = append(answer, mdns.Copy(rr))
		}
	}
	s.mu.Unlock()

	if silent {
		return
	}
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	switch {
	case hasRcode:
		m.Rcode = rcode
	case truncate && transport == "udp":
		m.Truncated = true
	case !exists && !s.hasChildren(name):
		m.Rcode = mdns.RcodeNameError
	default:
		m.Answer = answer
	}
	if transport == "udp" {
		// Like a real server: an answer larger than the client can take
		// over UDP (512 bytes, or its EDNS0 size) is cut, with TC set.
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

// hasChildren reports whether some record lies below name, which then
// exists as an empty non-terminal (RFC 8020: no NXDOMAIN for it).
func (s *Server) hasChildren(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for owner := range s.records {
		if strings.HasSuffix(owner, "."+name) {
			return true
		}
	}
	return false
}
