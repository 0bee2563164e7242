package suite

import (
	"fmt"
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
// there, in shards, only for the other events; the shards are merged on a
// GitHub-hosted runner; neither GitHub-hosted job sees a secret.
func TestClientRepoGitHubWorkflow(t *testing.T) {
	doc := readExample(t, filepath.Join(".github", "workflows", "smtpdiag.yml"))
	if !regexp.MustCompile(`(?m)^  schedule:\n    - cron: `).MatchString(doc) {
		t.Errorf("the workflow has no scheduled run")
	}
	jobs := yamlSections(t, doc, "jobs", 0)
	var validate, merge, office []string
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
			shards := regexp.MustCompile(`(?m)^        shard: \[([0-9, ]+)\]`).FindStringSubmatch(job)
			if shards == nil {
				t.Fatalf("job %s has no shard matrix:\n%s", name, job)
			}
			n := len(strings.Split(shards[1], ","))
			if !strings.Contains(job, fmt.Sprintf("--shard ${{ matrix.shard }}/%d ", n)) {
				t.Errorf("job %s runs a matrix of %d shards but not --shard ${{ matrix.shard }}/%d:\n%s", name, n, n, job)
			}
		case strings.Contains(job, "runs-on: ubuntu-"):
			switch {
			case strings.Contains(job, "smtpdiag validate "):
				validate = append(validate, name)
			case strings.Contains(job, "smtpdiag merge "):
				merge = append(merge, name)
				if !strings.Contains(job, "needs: mail-flow") || !strings.Contains(job, "always()") {
					t.Errorf("job %s does not wait for every shard, failed ones included:\n%s", name, job)
				}
			default:
				t.Errorf("job %s on a GitHub-hosted runner neither validates nor merges", name)
			}
			if strings.Contains(job, "smtpdiag run ") || strings.Contains(job, "SMTP_PASSWORD") || strings.Contains(job, "secrets.") {
				t.Errorf("job %s on a GitHub-hosted runner runs suites or sees a secret:\n%s", name, job)
			}
		default:
			t.Errorf("job %s runs on neither a GitHub-hosted runner nor the office runner:\n%s", name, job)
		}
	}
	if len(validate) != 1 || len(merge) != 1 || len(office) != 1 {
		t.Errorf("validate jobs %v, merge jobs %v, jobs on the office runner %v; want one each", validate, merge, office)
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
	run := jobs["mail-flow"]
	if !strings.Contains(run, "parallel: ") || !strings.Contains(run, "--shard $CI_NODE_INDEX/$CI_NODE_TOTAL ") ||
		!strings.Contains(run, "tags: [contoso-office]") {
		t.Errorf("the mail-flow job does not run its shard on the office runner:\n%s", run)
	}
	merge := jobs["merge"]
	if !strings.Contains(merge, "needs: [mail-flow]") || !strings.Contains(merge, "smtpdiag merge ") ||
		!strings.Contains(merge, "junit: reports/junit.xml") || strings.Contains(merge, "SMTP_PASSWORD") {
		t.Errorf("the merge job does not merge the shards into the JUnit report:\n%s", merge)
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
