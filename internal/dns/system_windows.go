//go:build windows

package dns

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// platformServers are the DNS servers Windows gives its network adapters
// (there is no resolv.conf): those of every adapter that is up and has a
// gateway, as Go's own resolver picks them on Windows. Site-local
// fec0::/10 addresses, which Windows sets when no IPv6 server is
// configured (deprecated by RFC 3879), are left out.
func platformServers() ([]string, error) {
	size := uint32(15000) // the initial size Microsoft recommends
	var buf []byte
	for range 4 {
		buf = make([]byte, size)
		const flags = windows.GAA_FLAG_INCLUDE_PREFIX | windows.GAA_FLAG_INCLUDE_GATEWAYS
		err := windows.GetAdaptersAddresses(syscall.AF_UNSPEC, flags, 0,
			(*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])), &size)
		if err == nil {
			break
		}
		if !errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) || size <= uint32(len(buf)) {
			return nil, err
		}
		buf = nil
	}
	if buf == nil || size == 0 {
		return nil, errors.New("no network adapters")
	}
	var out []string
	for aa := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0])); aa != nil; aa = aa.Next {
		if aa.OperStatus != windows.IfOperStatusUp || aa.FirstGatewayAddress == nil {
			continue
		}
		for s := aa.FirstDnsServerAddress; s != nil; s = s.Next {
			sa, err := s.Address.Sockaddr.Sockaddr()
			if err != nil {
				continue
			}
			var ip netip.Addr
			switch sa := sa.(type) {
			case *syscall.SockaddrInet4:
				ip = netip.AddrFrom4(sa.Addr)
			case *syscall.SockaddrInet6:
				ip = netip.AddrFrom16(sa.Addr)
				if sa.Addr[0] == 0xfe && sa.Addr[1]&0xc0 == 0xc0 {
					continue
				}
			default:
				continue
			}
			out = append(out, net.JoinHostPort(ip.String(), "53"))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no network adapter that is up has a DNS server")
	}
	return out, nil
}
