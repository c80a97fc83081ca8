package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefusedAddress is the error of a delivery whose target resolved to an
// address webhooks may not reach.
var ErrRefusedAddress = errors.New("refused address")

// refusedPrefixes are the ranges besides loopback, private, link-local,
// multicast and unspecified (which netip classifies) that a webhook must not
// reach: "this network", carrier-grade NAT (Alibaba's metadata service sits
// there), the IETF protocol block, benchmarking, the reserved block, and
// AWS's IPv6 metadata address (fd00:ec2::254, already private, kept for the
// reader).
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 of any IPv4, private ones included
}

// RefusedAddr reports why addr may not be a webhook target ("" if it may):
// loopback, private, link-local (cloud metadata at 169.254.169.254),
// multicast, unspecified and the ranges above.
func RefusedAddr(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid():
		return "invalid"
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local or metadata"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	case addr.IsUnspecified():
		return "unspecified"
	}
	for _, p := range refusedPrefixes {
		if p.Contains(addr) {
			return "reserved or metadata"
		}
	}
	return ""
}

// poster sends deliveries: a client that checks the address it actually
// connects to (after DNS, for every connection, so a name that resolves to
// a public address when checked and a private one when used gets nowhere),
// never follows redirects, and gives up after the timeout.
type poster struct {
	client *http.Client
}

func newPoster(allowPrivate bool, timeout time.Duration) *poster {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
			}
			if why := RefusedAddr(ap.Addr()); why != "" {
				return fmt.Errorf("%w: %s is %s (set %s=true to allow)", ErrRefusedAddress, ap.Addr(), why, EnvAllowPriv)
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:               nil, // a proxy would make the address check meaningless
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     60 * time.Second,
		TLSHandshakeTimeout: timeout,
	}
	return &poster{client: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}
