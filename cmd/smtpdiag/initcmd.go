package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/dns"
	"github.com/smtpdiag/smtpdiag/internal/safetext"
	"github.com/smtpdiag/smtpdiag/internal/scaffold"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

const initUsage = `Usage: smtpdiag init [flags] DOMAIN

Writes a starter suite for a client's domain from what DNS says about it:
  - the MX records, recognising Exchange Online's host names
    (*.mail.protection.outlook.com and the DNSSEC-signed *.mx.microsoft),
    and saying so when the MX is not Exchange Online;
  - the SPF and DMARC records as they are published now;
  - the client-submission endpoint, smtp.office365.com:587;
  - a blocklist check of this machine's egress IP as the MX sees it;
  - commented-out blocks for an AUTH check and a device (listen) test,
    with variables for the mailbox and its password (from SMTP_PASSWORD).
Every block is explained in a comment above it.

The file is DOMAIN.hcl unless -o names another; init never overwrites a
file. -o - prints the suite on standard output. The only traffic is DNS
queries for DOMAIN's MX, TXT (SPF, following includes) and _dmarc records.

  smtpdiag init contoso.com
  smtpdiag init --resolver 192.0.2.53 -o suites/contoso.hcl contoso.com

Exit codes: 0 written, 1 DNS gave no answer for the domain (nothing is
written), 2 usage error or the file exists.
`

func cmdInit(args []string, e env) error {
	var out, resolver string
	flags := newFlagSet("init", initUsage, e.stdout)
	flags.StringVar(&out, "o", "", "write the suite to `FILE` (default DOMAIN.hcl; - for standard output)")
	flags.StringVar(&resolver, "resolver", "", "DNS resolver `IP[:PORT]` to ask (default: the system resolver)")
	rest, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	switch len(rest) {
	case 0:
		return usagef("init needs the client's domain, e.g. smtpdiag init contoso.com")
	case 1:
	default:
		return usagef("init takes one domain; got %d arguments (%s)", len(rest), safetext.Line(strings.Join(rest, " ")))
	}
	domain, err := scaffold.NormalizeDomain(rest[0])
	if err != nil {
		return usagef("%s", safetext.Line(err.Error()))
	}
	if out == "" {
		out = domain + ".hcl"
	}
	if out != "-" {
		if _, err := os.Lstat(out); err == nil {
			return usagef("%s exists; init never overwrites a file: remove it, or name another with -o FILE", safetext.Line(out))
		}
	}
	servers, err := initServers(resolver)
	if err != nil {
		return err
	}
	r := &dns.Resolver{Servers: servers, Cache: dns.NewCache()}
	facts, err := scaffold.Discover(context.Background(), r, rest[0])
	if err != nil {
		var le *scaffold.LookupError
		if errors.As(err, &le) {
			fmt.Fprintf(e.stderr, "smtpdiag: %s\nNothing was written.\n", safetext.Line(err.Error()))
			return checksFailed{}
		}
		return err
	}
	text := scaffold.Render(facts, scaffold.Options{File: out, Resolver: resolver})
	if out == "-" {
		writeFindings(e.stderr, facts)
		_, err := e.stdout.Write(text)
		return err
	}
	if err := createNew(out, text); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usagef("%s exists; init never overwrites a file: remove it, or name another with -o FILE", safetext.Line(out))
		}
		return fmt.Errorf("writing the suite: %w", err)
	}
	writeFindings(e.stdout, facts)
	fmt.Fprintf(e.stdout, "\nWrote %s. Next:\n  smtpdiag validate %[1]s\n  smtpdiag run %s%[1]s\n", safetext.Line(out), resolverFlag(resolver))
	return nil
}

// initServers are the resolvers init asks: --resolver, else the system's.
func initServers(resolver string) ([]string, error) {
	if resolver != "" {
		addr, err := suite.ParseResolver(resolver)
		if err != nil {
			return nil, usagef("--resolver %s: %v", safetext.Line(resolver), err)
		}
		return []string{addr}, nil
	}
	servers, err := dns.SystemServers("")
	if err != nil {
		return nil, usagef("%v", err)
	}
	return servers, nil
}

func resolverFlag(resolver string) string {
	if resolver == "" {
		return ""
	}
	return "--resolver " + safetext.Line(resolver) + " "
}

// writeFindings says what DNS said, and what that means for the suite.
func writeFindings(w io.Writer, f *scaffold.Facts) {
	fmt.Fprintf(w, "%s, as DNS (%s) says:\n", f.Domain, strings.Join(f.Servers, ", "))
	for _, line := range f.Findings() {
		fmt.Fprintf(w, "  %s\n", safetext.Line(line))
	}
	switch {
	case len(f.MX) == 0:
		fmt.Fprintln(w, "The domain has no MX: the suite's MX checks fail until one is published.")
	case f.Exchange() == scaffold.NotExchangeOnline:
		fmt.Fprintf(w, "The MX is not Exchange Online: mail reaches %s first. The suite checks that it stays so.\n",
			safetext.Line(f.MX[0].Host))
	}
}

// createNew writes a file that must not exist yet (O_EXCL, so that a
// file created meanwhile is not overwritten either).
func createNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
