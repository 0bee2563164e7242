package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/smtpdiag/smtpdiag/examples"
	"github.com/smtpdiag/smtpdiag/internal/oauthlab"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/simulator"
	"github.com/smtpdiag/smtpdiag/internal/suite"
	"github.com/smtpdiag/smtpdiag/suites"
)

const demoUsage = `Usage: smtpdiag demo [flags]

Starts the built-in Exchange-Online-like simulator on loopback ports it picks
itself (a submission endpoint like smtp.office365.com:587 and an MX endpoint
like contoso-com.mail.protection.outlook.com:25) and a test identity
provider like login.microsoftonline.com on loopback too, and runs against
them the example suites and the ready-made suite
suites/basic-auth-migration.hcl, which ends the output with the matrix of
the ways the demo mailbox can send after the Basic auth switch-off. Works
with no network at all.

Some checks pass, and checks labelled "EXPECTED FAILURE" fail on purpose to
show what a failure, its diagnosis and its transcript look like; so does the
migration suite's connector check (the simulator has no connector), and its
ACS relay check is not tested (the demo gives it no credentials). The exit
code is 0 when every check behaved as the demo expects.
`

// expectedFailurePrefix marks demo checks that must fail.
const expectedFailurePrefix = "EXPECTED FAILURE"

func cmdDemo(args []string, e env) error {
	var f runFlags
	fs := newFlagSet("demo", demoUsage, e.stdout)
	fs.StringVar(&f.junit, "junit", "", "write JUnit XML to `FILE`")
	fs.StringVar(&f.json, "json", "", "write the full results as JSON to `FILE`")
	fs.StringVar(&f.report, "report", "", "write an evidence report to `FILE` (.html or .md)")
	fs.StringVar(&f.metrics, "metrics", "", metricsUsage)
	fs.BoolVar(&f.verbose, "v", false, "show the transcript of every check")
	fs.BoolVar(&f.noColor, "no-color", false, "no colour (NO_COLOR is honoured too)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("demo takes no arguments (got %q)", rest[0])
	}
	if err := f.check(); err != nil {
		return err
	}

	// The simulator checks the tokens of the test identity provider, as
	// Exchange Online checks Entra ID's; both listen on 127.0.0.1 only.
	lab, err := oauthlab.Start()
	if err != nil {
		return fmt.Errorf("start the simulator and the test identity provider: %w", err)
	}
	defer lab.Close()
	sim := lab.Sim
	dir, err := os.MkdirTemp("", "smtpdiag-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	caFile, err := sim.WriteCAFile(dir)
	if err != nil {
		return fmt.Errorf("write the simulator's CA: %w", err)
	}
	idpCAFile := filepath.Join(dir, "idp-ca.pem")
	if err := os.WriteFile(idpCAFile, lab.IdP.CAPEM, 0o600); err != nil {
		return fmt.Errorf("write the identity provider's CA: %w", err)
	}

	subHost, subPort, _ := net.SplitHostPort(sim.SubmissionAddr)
	mxHost, mxPort, _ := net.SplitHostPort(sim.MXAddr)
	vars := []string{
		"submission_host=" + subHost, "submission_port=" + subPort,
		"mx_host=" + mxHost, "mx_port=" + mxPort,
		"ca_file=" + caFile,
	}
	suites, err := loadDemoSuites(vars, e)
	if err != nil {
		return err
	}
	migration, err := loadDemoMigration(append(vars, demoMigrationVars(lab, idpCAFile)...), e)
	if err != nil {
		return err
	}
	suites = append(suites, migration)

	fmt.Fprintf(e.stdout, "smtpdiag demo: Exchange-Online-like simulator on %s (submission, like\n"+
		"smtp.office365.com:587) and %s (MX, like *.mail.protection.outlook.com:25),\n"+
		"test identity provider on %s (like login.microsoftonline.com).\n"+
		"%s runs against them too: its HVE check signs in at the\n"+
		"submission endpoint (the simulator has no HVE or ACS endpoint), its ACS relay\n"+
		"check has no credentials and is not tested, and its connector check fails (the\n"+
		"simulator has no connector).\n\n",
		sim.SubmissionAddr, sim.MXAddr, lab.IdP.URL, demoMigrationPath)
	interrupt := watchInterrupt()
	defer interrupt.stop()
	results, _, err := execute(interrupt.context(), suites, f, e)
	if err != nil {
		return err
	}
	if sim.DataCommands() != 0 {
		return fmt.Errorf("the simulator saw %d DATA commands, but no demo check has a message block", sim.DataCommands())
	}
	return judgeDemo(results, e)
}

// demoMigrationPath names the ready-made migration suite in the demo's
// output, as its path in the repository.
var demoMigrationPath = path.Join("suites", suites.MigrationFile)

// demoMigration is what each check of the migration suite must do
// against the simulator, by the path it proves: the simulator and the
// identity provider know the demo mailbox's password, the app's client
// secret and the HVE account; nobody gives the ACS relay credentials; and
// the simulator has no connector, so the external recipient is refused
// with 550 5.7.64. Its dns check is disabled (check_mx_record = false):
// the demo asks no DNS server.
var demoMigration = map[string]result.Status{
	"basic_auth":  result.Passed,
	"oauth":       result.Passed,
	"hve":         result.Passed,
	"acs_relay":   result.Skipped,
	"direct_send": result.Passed,
	"connector":   result.Failed,
	"":            result.Skipped,
}

// demoMigrationVars are the migration suite's values in the demo, besides
// the simulator's addresses and CA: the demo mailbox and its password,
// the test identity provider's app, and the HVE account at the
// submission endpoint. The ACS relay's credentials stay empty, so that
// its check is not tested; its host is the submission endpoint all the
// same, so that nothing could ever leave the machine.
func demoMigrationVars(lab *oauthlab.Lab, idpCAFile string) []string {
	subHost, subPort, _ := net.SplitHostPort(lab.Sim.SubmissionAddr)
	return []string{
		"domain=contoso.com",
		"mailbox=" + oauthlab.Mailbox,
		"password=" + simulator.DefaultUsers()[oauthlab.Mailbox].Password,
		"internal_recipient=helpdesk@contoso.com",
		"external_recipient=partner@fabrikam.com",
		"tenant=" + oauthlab.TenantID,
		"client_id=" + oauthlab.SendApp,
		"client_secret=" + oauthlab.Secret,
		"oauth_authority=" + lab.IdP.URL,
		"oauth_ca_file=" + idpCAFile,
		"hve_host=" + subHost, "hve_port=" + subPort,
		"hve_account=" + oauthlab.HVEAccount,
		"hve_password=" + oauthlab.HVEPassword,
		"acs_host=" + subHost, "acs_port=" + subPort,
		"acs_username=", "acs_client_secret=",
		"check_mx_record=false",
		"device_helo=scanner01.contoso.com",
	}
}

// loadDemoMigration decodes the embedded migration suite with vars and
// no environment: a value set for a real tenant (SMTP_PASSWORD,
// SMTP_ACS_USERNAME, SMTPDIAG_VAR_...) must not reach the demo.
func loadDemoMigration(vars []string, e env) (*suite.Suite, error) {
	loader := suite.NewLoader(suite.Options{Vars: vars, Environ: []string{}})
	s, diags := loader.LoadSource(demoMigrationPath, suites.BasicAuthMigration)
	if diags.HasErrors() {
		loader.WriteDiagnostics(e.stderr, diags, false, 100)
		return nil, fmt.Errorf("the embedded migration suite does not decode")
	}
	return s, nil
}

// loadDemoSuites decodes the embedded example suites; a variable only has
// to be declared by one of them.
func loadDemoSuites(vars []string, e env) ([]*suite.Suite, error) {
	names, err := fs.Glob(examples.Demo, "demo/*.hcl")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var sources []suite.Source
	for _, name := range names {
		src, err := fs.ReadFile(examples.Demo, name)
		if err != nil {
			return nil, err
		}
		sources = append(sources, suite.Source{Filename: path.Join("examples", name), Src: src})
	}
	loader := suite.NewLoader(suite.Options{Vars: vars, Environ: e.environ})
	suites, diags := loader.LoadSources(sources)
	if diags.HasErrors() {
		loader.WriteDiagnostics(e.stderr, diags, false, 100)
		return nil, fmt.Errorf("the embedded demo suites do not decode")
	}
	return suites, nil
}

// judgeDemo passes when exactly the checks labelled EXPECTED FAILURE
// failed in the example suites, and every check of the migration suite
// did what demoMigration says, and its matrix is there.
func judgeDemo(results []*result.Suite, e env) error {
	var wrong []string
	expected, notTested := 0, 0
	for _, s := range results {
		for _, c := range s.Checks {
			if s.Path == demoMigrationPath {
				want, ok := demoMigration[c.Path]
				if !ok || c.Status != want {
					wrong = append(wrong, fmt.Sprintf("%s › %s: %s, want %s", s.Name, c.Label, c.Status, want))
				}
				switch want {
				case result.Failed:
					expected++
				case result.Skipped:
					notTested++
				}
				continue
			}
			mustFail := strings.HasPrefix(c.Label, expectedFailurePrefix)
			if mustFail {
				expected++
			}
			if mustFail != (c.Status == result.Failed) {
				wrong = append(wrong, fmt.Sprintf("%s › %s: %s", s.Name, c.Label, c.Status))
			}
		}
		if s.Path == demoMigrationPath && s.Paths == nil {
			wrong = append(wrong, s.Name+": no decision on the ways to send")
		}
	}
	fmt.Fprintln(e.stdout)
	if len(wrong) > 0 {
		fmt.Fprintln(e.stdout, "Demo: these checks did not behave as the demo expects:")
		for _, w := range wrong {
			fmt.Fprintln(e.stdout, "  "+w)
		}
		return checksFailed{}
	}
	total := result.Tally(results).Total()
	fmt.Fprintf(e.stdout, "Demo OK: all %d checks behaved as expected (%d failed on purpose: those labelled %q\n"+
		"and the migration suite's connector check; %d not tested on purpose).\n", total, expected, expectedFailurePrefix, notTested)
	fmt.Fprintf(e.stdout, "Next: write a suite for your tenant (see README.md and docs/suite-language.md), or run\n"+
		"%s for your device's mailbox, then 'smtpdiag run'.\n", demoMigrationPath)
	return nil
}
