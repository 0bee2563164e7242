package suite

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The example client repo and the README live at the top of the module.
var clientRepo = filepath.Join("..", "..", "examples", "client-repo")

// yamlSections splits a YAML document's block under key (at indent
// spaces) into its child entries by name, as text: go.mod has no YAML
// parser, and the CI examples need no more than this.
func yamlSections(t *testing.T, doc, key string, indent int) map[string]string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	out := map[string]string{}
	in, current := false, ""
	child := regexp.MustCompile(`^` + strings.Repeat(" ", indent+2) + `([A-Za-z0-9_-]+):`)
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		lead := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case strings.HasPrefix(line, strings.Repeat(" ", indent)+key+":") && lead == indent:
			in = true
			continue
		case !in || trimmed == "" || strings.HasPrefix(trimmed, "#"):
			if in && current != "" {
				out[current] += line + "\n"
			}
			continue
		case lead <= indent:
			in = false
			continue
		}
		if m := child.FindStringSubmatch(line); m != nil {
			current = m[1]
		}
		if current != "" {
			out[current] += line + "\n"
		}
	}
	return out
}

func readExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clientRepo, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestClientRepoGitHubWorkflow: pull requests validate on GitHub-hosted
// runners and never reach the self-hosted office runner; the suites run
// there only for the other events, and validation needs no password.
func TestClientRepoGitHubWorkflow(t *testing.T) {
	jobs := yamlSections(t, readExample(t, filepath.Join(".github", "workflows", "smtpdiag.yml")), "jobs", 0)
	var hosted, office []string
	for name, job := range jobs {
		switch {
		case strings.Contains(job, "self-hosted"):
			office = append(office, name)
			if !regexp.MustCompile(`(?m)^    if: .*github\.event_name != 'pull_request'`).MatchString(job) {
				t.Errorf("job %s runs on the office runner without a job-level if that leaves pull requests out:\n%s", name, job)
			}
			if !strings.Contains(job, "smtpdiag run ") {
				t.Errorf("job %s on the office runner does not run the suites", name)
			}
		case strings.Contains(job, "runs-on: ubuntu-"):
			hosted = append(hosted, name)
			if !strings.Contains(job, "smtpdiag validate ") {
				t.Errorf("job %s on a GitHub-hosted runner does not validate", name)
			}
			if strings.Contains(job, "smtpdiag run ") || strings.Contains(job, "SMTP_PASSWORD") || strings.Contains(job, "secrets.") {
				t.Errorf("job %s on a GitHub-hosted runner runs suites or sees a secret:\n%s", name, job)
			}
		default:
			t.Errorf("job %s runs on neither a GitHub-hosted runner nor the office runner:\n%s", name, job)
		}
	}
	if len(hosted) != 1 || len(office) != 1 {
		t.Errorf("jobs on GitHub-hosted runners %v, on the office runner %v; want one each", hosted, office)
	}
}

// TestClientRepoGitLabPipeline: the validate job sets no SMTP_PASSWORD,
// which a project variable of the same name would override anyway.
func TestClientRepoGitLabPipeline(t *testing.T) {
	doc := readExample(t, ".gitlab-ci.yml")
	jobs := yamlSections(t, "root:\n"+indentLines(doc), "root", 0)
	validate, ok := jobs["validate"]
	if !ok {
		t.Fatalf("no validate job in:\n%s", doc)
	}
	if strings.Contains(validate, "SMTP_PASSWORD") || strings.Contains(doc, "validate-only") {
		t.Errorf("the validate job sets SMTP_PASSWORD:\n%s", validate)
	}
	if !strings.Contains(validate, "smtpdiag validate ") {
		t.Errorf("the validate job does not validate:\n%s", validate)
	}
}

// indentLines indents every line by two spaces.
func indentLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}
