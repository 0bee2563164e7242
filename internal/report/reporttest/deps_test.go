package reporttest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestReportersStayLight: the reporters read the results model and
// nothing else of smtpdiag's but the knowledge base and the text and
// masking rules; none pulls in the TLS stack, the network or the SMTP
// client, so that a report can be written (or merged) anywhere. go list
// answers from the module's source, as the build sees it.
func TestReportersStayLight(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	allowed := map[string]bool{
		"internal/result": true, "internal/esmtp": true, "internal/safetext": true, "internal/redact": true,
		"internal/knowledge": true, "internal/report/matrix": true,
	}
	const module = "github.com/smtpdiag/smtpdiag/"
	for _, pkg := range []string{"junit", "summary", "jsonreport", "evidence", "github"} {
		out, err := exec.Command(goTool, "list", "-deps", module+"internal/report/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, d := range deps {
			switch {
			case d == "crypto/tls", d == "net", d == "net/http", d == "os/exec":
				t.Errorf("report/%s depends on %s", pkg, d)
			case strings.HasPrefix(d, module) && d != module+"internal/report/"+pkg &&
				!allowed[strings.TrimPrefix(d, module)]:
				t.Errorf("report/%s depends on %s", pkg, strings.TrimPrefix(d, module))
			}
		}
		t.Logf("report/%s: %d packages", pkg, len(deps))
	}
}
