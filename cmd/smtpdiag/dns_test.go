package main

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpdiag/smtpdiag/internal/dns"
	"github.com/smtpdiag/smtpdiag/internal/dns/dnstest"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
)

// DQSKey is the Spamhaus DQS key the scenarios pass as a sensitive
// variable; the DNS server answers under it, and it must never show.
const dqsKey = "lab0dqs0key0123456789"

// TestDNSScripts runs the scenarios in testdata/dns: the CLI against a
// simulator and an in-process DNS server on 127.0.0.1 that serves
// contoso.com like an Exchange Online tenant's domain (MX to the
// simulator's MX endpoint, SPF, DMARC) and the default blocklist zones.
// The scripts pass its address with --resolver ($DNS_RESOLVER), so no
// lookup leaves loopback.
func TestDNSScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/dns",
		Setup: func(e *testscript.Env) error {
			sim, err := simulator.Start(simulator.Options{})
			if err != nil {
				return err
			}
			e.Defer(func() { sim.Close() })
			ca, err := sim.WriteCAFile(e.WorkDir)
			if err != nil {
				return err
			}
			srv, err := dnstest.Start()
			if err != nil {
				return err
			}
			e.Defer(srv.Close)
			mxHost := strings.ToLower(sim.MXHostname) + "."
			if err := srv.Add(
				"contoso.com. 300 IN MX 0 "+mxHost,
				mxHost+" 300 IN A 127.0.0.1",
				`contoso.com. 300 IN TXT "v=spf1 ip4:127.0.0.1 include:spf.protection.outlook.com ~all"`,
				`contoso.com. 300 IN TXT "MS=ms12345678"`,
				`spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 -all"`,
				`_dmarc.contoso.com. 300 IN TXT "v=DMARC1; p=reject"`,
				"null.example. 300 IN MX 0 .",
				// 127.0.0.1, the address the simulator echoes, is in a
				// PBL-like listing of this lab's zen.spamhaus.org.
				"1.0.0.127.zen.spamhaus.org. 300 IN A 127.0.0.11",
				`1.0.0.127.zen.spamhaus.org. 300 IN TXT "127.0.0.1 is in the lab PBL"`,
				"2.0.0.127."+dqsKey+".zen.dq.spamhaus.net. 300 IN A 127.0.0.2",
				`2.0.0.127.`+dqsKey+`.zen.dq.spamhaus.net. 300 IN TXT "listed for key `+dqsKey+`"`,
			); err != nil {
				return err
			}
			_, mxPort, _ := net.SplitHostPort(sim.MXAddr)
			e.Setenv("MX_PORT", mxPort)
			e.Setenv("CA_FILE", ca)
			e.Setenv("DNS_RESOLVER", srv.Addr)
			e.Setenv("DQS_KEY", dqsKey)
			e.Setenv("NO_COLOR", "")
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits": cmdExits,
			"junit": cmdJUnit,
		},
	})
}

// TestDNSPeers runs the scenarios in testdata/dnspeers against the real
// servers scripts/peers.sh starts on loopback: rbldnsd (a DNSBL zone and
// the contoso.test zone with MX, SPF and DMARC) as --resolver, and
// Postfix as the MX it names. It skips when they do not answer.
func TestDNSPeers(t *testing.T) {
	env := map[string]string{
		"SMTPDIAG_PEERS_DNS": "127.0.0.1:5354",
		"SMTPDIAG_PEERS_MX":  "127.0.0.1:2525",
		"SMTPDIAG_PEERS_CA":  "/run/smtpdiag-peers/ca.pem",

		"SMTPDIAG_PEERS_SUBMISSION": "127.0.0.1:5587",
		"SMTPDIAG_PEERS_USER":       "scanner@contoso.test",
		"SMTPDIAG_PEERS_PASSWORD":   "peers-scan-2026",
	}
	path := os.Getenv("SMTPDIAG_PEERS_ENV")
	if path == "" {
		path = "/run/smtpdiag-peers/env"
	}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && v != "" {
				if _, known := env[k]; known {
					env[k] = v
				}
			}
		}
		f.Close()
	}
	for _, k := range []string{"SMTPDIAG_PEERS_DNS", "SMTPDIAG_PEERS_MX", "SMTPDIAG_PEERS_SUBMISSION"} {
		if ap, err := netip.ParseAddrPort(env[k]); err != nil || !ap.Addr().IsLoopback() {
			t.Fatalf("%s=%q: the peers must listen on a loopback address", k, env[k])
		}
	}
	r := &dns.Resolver{Servers: []string{env["SMTPDIAG_PEERS_DNS"]}, Timeout: time.Second}
	if _, err := r.ResolveMX(t.Context(), "contoso.test", 4); err != nil {
		t.Skipf("the peers' rbldnsd does not answer on %s (%v); start the peers with sudo scripts/peers.sh up",
			env["SMTPDIAG_PEERS_DNS"], err)
	}
	c, err := net.DialTimeout("tcp", env["SMTPDIAG_PEERS_MX"], 2*time.Second)
	if err != nil {
		t.Skipf("the peers' Postfix does not answer on %s (%v); start it with sudo scripts/peers.sh up", env["SMTPDIAG_PEERS_MX"], err)
	}
	c.Close()
	_, mxPort, _ := net.SplitHostPort(env["SMTPDIAG_PEERS_MX"])
	_, subPort, _ := net.SplitHostPort(env["SMTPDIAG_PEERS_SUBMISSION"])
	testscript.Run(t, testscript.Params{
		Dir: "testdata/dnspeers",
		Setup: func(e *testscript.Env) error {
			e.Setenv("DNS_RESOLVER", env["SMTPDIAG_PEERS_DNS"])
			e.Setenv("MX_PORT", mxPort)
			e.Setenv("SUBMISSION_PORT", subPort)
			e.Setenv("CA_FILE", env["SMTPDIAG_PEERS_CA"])
			e.Setenv("PEERS_USER", env["SMTPDIAG_PEERS_USER"])
			e.Setenv("PEERS_PASSWORD", env["SMTPDIAG_PEERS_PASSWORD"])
			e.Setenv("NO_COLOR", "")
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits":     cmdExits,
			"junit":     cmdJUnit,
			"replace":   cmdReplace,
			"uncomment": cmdUncomment,
		},
	})
}

// replace FILE OLD NEW: replaces the one line of FILE that is OLD with
// NEW; there must be exactly one.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	lines := strings.Split(ts.ReadFile(args[0]), "\n")
	n := 0
	for i, l := range lines {
		if l == args[1] {
			lines[i] = args[2]
			n++
		}
	}
	if n != 1 {
		ts.Fatalf("replace: %d lines of %s are %q, want 1", n, args[0], args[1])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(lines, "\n")), 0o644))
}

// uncomment FILE: enables the commented-out blocks of a suite smtpdiag
// init wrote, as a person does: from a "# smtp" or "# device" line to the
// "# }" that closes it, the "# " in front of each line is removed.
func cmdUncomment(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: uncomment FILE")
	}
	lines := strings.Split(ts.ReadFile(args[0]), "\n")
	in, blocks := false, 0
	for i, l := range lines {
		if !in && (strings.HasPrefix(l, "# smtp \"") || strings.HasPrefix(l, "# device \"")) {
			in = true
			blocks++
		}
		if in {
			lines[i] = strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
			if l == "# }" {
				in = false
			}
		}
	}
	if blocks == 0 || in {
		ts.Fatalf("uncomment: %s has %d commented-out blocks (unclosed: %v)", args[0], blocks, in)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(lines, "\n")), 0o644))
}
