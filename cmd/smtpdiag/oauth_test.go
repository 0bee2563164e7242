package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpdiag/smtpdiag/internal/oauthlab"
)

// TestOAuthScripts runs the scenarios of testdata/oauth: the CLI against
// a test identity provider (package idptest, over HTTPS on 127.0.0.1) and
// a simulator that checks its tokens as Exchange Online does. Exported:
// AUTHORITY and IDP_CA_FILE (the identity provider), SUBMISSION_HOST,
// SUBMISSION_PORT and CA_FILE (the simulator), TENANT, and the app IDs
// SEND_APP, NO_ROLE_APP and UNKNOWN_APP; the client secret is in
// SMTPDIAG_VAR_secret.
func TestOAuthScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/oauth",
		Setup: func(e *testscript.Env) error {
			lab, err := oauthlab.Start()
			if err != nil {
				return err
			}
			e.Defer(lab.Close)
			for name, pem := range map[string][]byte{"sim-ca.pem": lab.Sim.CAPEM, "idp-ca.pem": lab.IdP.CAPEM} {
				if err := os.WriteFile(filepath.Join(e.WorkDir, name), pem, 0o600); err != nil {
					return err
				}
			}
			host, port, _ := net.SplitHostPort(lab.Sim.SubmissionAddr)
			for k, v := range map[string]string{
				"AUTHORITY":           lab.IdP.URL,
				"IDP_CA_FILE":         filepath.Join(e.WorkDir, "idp-ca.pem"),
				"SUBMISSION_HOST":     host,
				"SUBMISSION_PORT":     port,
				"CA_FILE":             filepath.Join(e.WorkDir, "sim-ca.pem"),
				"TENANT":              oauthlab.TenantID,
				"SEND_APP":            oauthlab.SendApp,
				"NO_ROLE_APP":         oauthlab.NoRoleApp,
				"UNKNOWN_APP":         oauthlab.UnknownApp,
				"SMTPDIAG_VAR_secret": oauthlab.Secret,
				"NO_COLOR":            "1",
			} {
				e.Setenv(k, v)
			}
			e.Values["lab"] = lab
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"exits": cmdExits,
			"junit": cmdJUnit,
			"idp-token-requests": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: idp-token-requests N")
				}
				if got := ts.Value("lab").(*oauthlab.Lab).IdP.TokenRequests(); strconv.Itoa(got) != args[0] {
					ts.Fatalf("the identity provider answered %d token requests, want %s", got, args[0])
				}
			},
		},
	})
}

// labSuite writes the lab's CAs and a suite whose checks use it to dir,
// and returns the suite's path. In checks, {{authority}}, {{tenant}},
// {{port}} and {{mailbox}} stand for the lab's.
func labSuite(t *testing.T, lab *oauthlab.Lab, dir, checks string) string {
	t.Helper()
	for name, pem := range map[string][]byte{"sim-ca.pem": lab.Sim.CAPEM, "idp-ca.pem": lab.IdP.CAPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), pem, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, port, _ := net.SplitHostPort(lab.Sim.SubmissionAddr)
	src := strings.NewReplacer("{{authority}}", lab.IdP.URL, "{{tenant}}", oauthlab.TenantID, "{{port}}", port,
		"{{mailbox}}", oauthlab.Mailbox).Replace(`
endpoint "submission" {
  host    = "127.0.0.1"
  port    = {{port}}
  ca_file = "sim-ca.pem"
}
` + checks)
	path := filepath.Join(dir, "oauth.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startOAuthLab(t *testing.T) *oauthlab.Lab {
	t.Helper()
	lab, err := oauthlab.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	return lab
}

// TestOAuthDeviceCodePrompt: at a terminal, smtpdiag run prints the
// device code prompt on stderr (the page, the code, the deadline) and
// waits; a user who reads it there and signs in (a goroutine that reads
// stderr and approves the code) completes the check.
func TestOAuthDeviceCodePrompt(t *testing.T) {
	lab := startOAuthLab(t)
	dir := t.TempDir()
	path := labSuite(t, lab, dir, fmt.Sprintf(`
smtp "a user signs in on another device" {
  endpoint      = endpoint.submission
  check_timeout = "30s"
  auth {
    username = "{{mailbox}}"
    oauth {
      tenant    = "{{tenant}}"
      client_id = %q
      flow      = "device_code"
      authority = "{{authority}}"
      ca_file   = "idp-ca.pem"
    }
  }
  expect { auth = 235 }
}
`, oauthlab.PublicApp))
	r, w := io.Pipe()
	var stderr bytes.Buffer
	approved := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		code := regexp.MustCompile(`^    ([A-Z0-9]{9})$`)
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := code.FindStringSubmatch(sc.Text()); m != nil && !sent {
				sent = true
				approved <- lab.IdP.Approve(m[1], oauthlab.Mailbox)
			}
		}
		if !sent {
			approved <- fmt.Errorf("no code on stderr")
		}
	}()
	var stdout bytes.Buffer
	code := run([]string{"run", "-v", path}, env{stdout: &stdout, stderr: w, environ: []string{}, terminal: true,
		getenv: func(string) string { return "" }})
	w.Close()
	<-done
	if err := <-approved; err != nil {
		t.Fatalf("approval: %v\nstderr:\n%s", err, stderr.String())
	}
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"OAuth sign-in needed (device code flow): on any device, open\n    " + lab.IdP.URL + "/devicelogin\nand enter the code\n",
		"smtpdiag waits until the check's deadline (the code expires at ",
		"The identity provider says: To sign in, use a web browser to open the page",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	for _, want := range []string{"OAuth device_code: authority " + lab.IdP.URL, "OAuth token: acquired", "scp SMTP.Send", "upn " + oauthlab.Mailbox} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestOAuthNothingSecretInAnyOutput runs a suite with a client secret, a
// certificate's key (as a file and read with file()) and the tokens they
// get through every output: stdout with every transcript, stderr, JUnit,
// JSON, the HTML and Markdown evidence reports, and under GitHub Actions
// the annotations and the job summary. Some checks fail, so that
// diagnoses and failure messages are written too. None of the secret, a
// line of the key's PEM, a token or any of their base64 forms may show.
func TestOAuthNothingSecretInAnyOutput(t *testing.T) {
	lab := startOAuthLab(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.crt"), lab.Cert.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "app.key"), lab.Cert.KeyPEM, 0o600)
	app := func(label, clientID, credential, expect string) string {
		return fmt.Sprintf(`
smtp %q {
  endpoint  = endpoint.submission
  mail_from = "{{mailbox}}"
  auth {
    username = "{{mailbox}}"
    oauth {
      tenant    = "{{tenant}}"
      client_id = %q
      %s
      authority = "{{authority}}"
      ca_file   = "idp-ca.pem"
    }
  }
  expect { %s }
}
`, label, clientID, credential, expect)
	}
	path := labSuite(t, lab, dir, `
variable "secret" {
  sensitive = true
}
`+app("secret", oauthlab.SendApp, "client_secret = var.secret", "auth = 235")+
		app("certificate files", oauthlab.SendApp, `certificate = "app.crt"
      key = "app.key"
      scope = "https://outlook.office.com/.default"`, "auth = 235")+
		app("certificate with file()", oauthlab.SendApp, `certificate = file("app.crt")
      key = file("app.key")
      scope = "00000002-0000-0ff1-ce00-000000000000/.default"`, "auth = 235")+
		app("EXPECTED FAILURE: no role", oauthlab.NoRoleApp, "client_secret = var.secret", "auth = 235")+
		app("EXPECTED FAILURE: wrong expectation", oauthlab.SendApp, "client_secret = var.secret", `no = ["235"]`)+
		app("EXPECTED FAILURE: wrong secret", oauthlab.SendApp, `client_secret = "${var.secret}-but-wrong"`, "auth = 235"))
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o700)
	summaryFile := filepath.Join(out, "step-summary.md")
	vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summaryFile, "GITHUB_WORKSPACE": dir}
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "-v", "--no-input", "-var", "secret=" + oauthlab.Secret,
		"--junit", filepath.Join(out, "junit.xml"), "--json", filepath.Join(out, "out.json"),
		"--report", filepath.Join(out, "report.html"), path},
		env{stdout: &stdout, stderr: &stderr, environ: []string{}, getenv: func(k string) string { return vars[k] }})
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	code = run([]string{"run", "--no-input", "-var", "secret=" + oauthlab.Secret, "--report", filepath.Join(out, "report.md"), path},
		env{stdout: &stdout, stderr: &stderr, environ: []string{}, getenv: func(string) string { return "" }})
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	outputs := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(files) != 5 {
		t.Fatalf("outputs %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = string(b)
	}
	// The outputs say what they must: the token requests, the claims, the
	// failures and their diagnoses.
	for name, want := range map[string]string{
		"stdout":          "OAuth claims problem: roles: the application permissions (none) lack SMTP.SendAsApp",
		"junit.xml":       "OAuth claims: aud https://outlook.office365.com, roles SMTP.SendAsApp",
		"out.json":        `"outcome": "acquired"`,
		"report.html":     "OAuth token: failed: token request",
		"report.md":       "AADSTS7000215",
		"step-summary.md": "wrong secret",
	} {
		if !strings.Contains(outputs[name], want) {
			t.Errorf("%s lacks %q", name, want)
		}
	}
	if !strings.Contains(outputs["stdout"], "::error file=") {
		t.Errorf("no GitHub annotation on stdout")
	}

	tokens := lab.IdP.IssuedTokens()
	if len(tokens) < 4 {
		t.Fatalf("%d tokens issued", len(tokens))
	}
	secrets := map[string]string{"client secret": oauthlab.Secret}
	for i, line := range keyLines(lab.Cert.KeyPEM) {
		secrets[fmt.Sprintf("key line %d", i)] = line
	}
	for i, tok := range tokens {
		secrets[fmt.Sprintf("token %d", i)] = tok
		secrets[fmt.Sprintf("token %d signature", i)] = strings.Split(tok, ".")[2]
		secrets[fmt.Sprintf("token %d in XOAUTH2", i)] = base64.StdEncoding.EncodeToString(
			[]byte("user=" + oauthlab.Mailbox + "\x01auth=Bearer " + tok + "\x01\x01"))
	}
	for name, s := range secrets {
		forms := []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s)),
			base64.URLEncoding.EncodeToString([]byte(s))}
		for _, form := range forms {
			for output, text := range outputs {
				if strings.Contains(text, form) {
					t.Errorf("%s shows the %s (%.12s...)", output, name, form)
				}
			}
		}
	}
}

// keyLines are the base64 lines of a PEM key, each a secret.
func keyLines(p []byte) []string {
	var out []string
	for _, line := range strings.Split(string(p), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}
