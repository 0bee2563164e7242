//go:build !windows

package dns

import "errors"

// platformServers: outside Windows the system resolver is resolv.conf's.
func platformServers() ([]string, error) { return nil, errors.ErrUnsupported }
