// Command fleetgen writes the suite files of bench/fleet.sh: an MSP's
// fleet of SUITES tenants with CHECKS checks in all against the built-in
// simulator (bench/simserver), and prints what an unsharded run of them
// must find as shell assignments:
//
//	CHECKS=10000
//	PASSED=9950
//	FAILED=50
//
// Each tenant's suite has a submission endpoint (STARTTLS, AUTH LOGIN) and
// an MX endpoint, and checks of four kinds in turn: a submission with
// AUTH, an MX recipient refused as a banned IP next to an accepted one, an
// MX relay denial, and an accepted MX recipient. In every tenth suite the
// last check expects a banned recipient to be accepted, so that the merged
// reports carry failures with their diagnosis and transcript.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := flag.String("dir", "", "directory to write the suites into (created)")
	suites := flag.Int("suites", 500, "number of suite files")
	checks := flag.Int("checks", 10000, "number of checks in all")
	submission := flag.String("submission", "", "the simulator's submission address, HOST:PORT")
	mx := flag.String("mx", "", "the simulator's MX address, HOST:PORT")
	ca := flag.String("ca", "", "the simulator's CA file")
	flag.Parse()
	if *dir == "" || *submission == "" || *mx == "" || *ca == "" || *suites < 1 || *checks < *suites {
		fmt.Fprintln(os.Stderr, "usage: fleetgen -dir DIR -submission HOST:PORT -mx HOST:PORT -ca FILE [-suites N] [-checks N]")
		os.Exit(2)
	}
	passed, failed, err := write(*dir, *suites, *checks, *submission, *mx, *ca)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetgen:", err)
		os.Exit(1)
	}
	fmt.Printf("CHECKS=%d\nPASSED=%d\nFAILED=%d\n", passed+failed, passed, failed)
}

func write(dir string, suites, checks int, submission, mx, ca string) (passed, failed int, err error) {
	subHost, subPort, err := net.SplitHostPort(submission)
	if err != nil {
		return 0, 0, err
	}
	mxHost, mxPort, err := net.SplitHostPort(mx)
	if err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	for s := range suites {
		// The checks are spread as evenly as they go.
		n := checks/suites + map[bool]int{true: 1}[s < checks%suites]
		var b strings.Builder
		fmt.Fprintf(&b, `suite { name = "tenant %03d" }
variable "password" {
  sensitive = true
  default   = "demo-password"
}
endpoint "submission" {
  host        = %q
  port        = %s
  ca_file     = %q
  server_name = "localhost"
}
endpoint "mx" {
  host        = %q
  port        = %s
  ca_file     = %q
  server_name = "localhost"
}
`, s, subHost, subPort, ca, mxHost, mxPort, ca)
		for i := range n {
			label := fmt.Sprintf("tenant %03d device %02d", s, i)
			rcpt := fmt.Sprintf("t%03dd%02d", s, i)
			if s%10 == 0 && i == n-1 {
				fmt.Fprintf(&b, `smtp %q {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["blocked-%s@contoso.com"]
  expect { rcpt = "250" }
}
`, label, rcpt)
				failed++
				continue
			}
			passed++
			switch i % 4 {
			case 0:
				fmt.Fprintf(&b, `smtp %q {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    password  = var.password
    mechanism = "LOGIN"
  }
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["%s@contoso.com"]
  expect {
    starttls = true
    auth     = 235
    rcpt     = "250"
  }
}
`, label, rcpt)
			case 1:
				fmt.Fprintf(&b, `smtp %q {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["blocked-%s@contoso.com", "%s@contoso.com"]
  expect { rcpt = ["550 5.7.606", "250"] }
}
`, label, rcpt, rcpt)
			case 2:
				fmt.Fprintf(&b, `smtp %q {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["%s@fabrikam.com"]
  expect { rcpt = "550 5.7.64" }
}
`, label, rcpt)
			default:
				fmt.Fprintf(&b, `smtp %q {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["%s@contoso.com"]
  expect {
    starttls       = true
    rcpt           = 250
    not_advertises = ["AUTH"]
  }
}
`, label, rcpt)
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("tenant-%03d.hcl", s))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return 0, 0, err
		}
	}
	return passed, failed, nil
}
