//go:build unix

package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsRun starts `smtpdiag run --metrics` against a server that accepts
// and then waits for the test; an earlier run's metrics file is in place.
type metricsRun struct {
	dir, file string
	old       []byte
	conn      net.Conn
	stop      func() error // waits for the CLI's end
	reads     func() (n int, bad []string)
	signal    func(syscall.Signal)
}

func startMetricsRun(t *testing.T) *metricsRun {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	dir := t.TempDir()
	suiteFile := filepath.Join(dir, "slow.hcl")
	if err := os.WriteFile(suiteFile, []byte(fmt.Sprintf(`suite {
  name = "metrics"
}
endpoint "slow" {
  host    = "127.0.0.1"
  port    = %s
  tls     = "none"
  timeout = "30s"
}
smtp "greets when the test says so" {
  endpoint = endpoint.slow
}
`, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The textfile collector's directory, with the last run's file.
	textfile := filepath.Join(dir, "textfile")
	if err := os.Mkdir(textfile, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &metricsRun{dir: textfile, file: filepath.Join(textfile, "smtpdiag.prom")}
	r.old = []byte("# HELP smtpdiag_run_timestamp_seconds When the run started, as Unix time.\n# TYPE smtpdiag_run_timestamp_seconds gauge\nsmtpdiag_run_timestamp_seconds 1.7e+09\n")
	if err := os.WriteFile(r.file, r.old, 0o644); err != nil {
		t.Fatal(err)
	}

	// A reader like node_exporter's, as fast as it can: every read must
	// find a whole file, the old one or a new one the parser reads.
	var (
		mu    sync.Mutex
		n     int
		bad   []string
		done  = make(chan struct{})
		ended = make(chan struct{})
	)
	go func() {
		defer close(ended)
		for {
			select {
			case <-done:
				return
			default:
			}
			b, err := os.ReadFile(r.file)
			mu.Lock()
			n++
			switch {
			case err != nil:
				bad = append(bad, err.Error())
			case bytes.Equal(b, r.old):
			default:
				p := expfmt.NewTextParser(model.LegacyValidation)
				if fams, err := p.TextToMetricFamilies(bytes.NewReader(b)); err != nil || fams["smtpdiag_run_checks"] == nil {
					bad = append(bad, fmt.Sprintf("a partial file (%v): %q", err, b))
				}
			}
			mu.Unlock()
			time.Sleep(200 * time.Microsecond)
		}
	}()

	cmd, stdout, stderr, exited := startCLI(t, dir, "run", "--no-color", "--metrics", r.file, suiteFile)
	select {
	case r.conn = <-accepted:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no connection within 10s\n%s\n%s", stdout, stderr)
	}
	t.Cleanup(func() { r.conn.Close() })
	r.stop = func() error {
		err := waitExit(t, cmd, exited)
		close(done)
		<-ended
		return err
	}
	r.reads = func() (int, []string) {
		mu.Lock()
		defer mu.Unlock()
		return n, bad
	}
	r.signal = func(sig syscall.Signal) { cmd.Process.Signal(sig) }
	return r
}

// TestMetricsReplacedAtomically: while a run is under way the last run's
// metrics stay in place (the textfile collector keeps serving them, and no
// alert resolves because a series vanished); the new file replaces them in
// one rename, so that a reader never sees a partial file or none, and no
// temporary file stays behind.
func TestMetricsReplacedAtomically(t *testing.T) {
	r := startMetricsRun(t)
	// Mid-run: the check waits for the banner.
	time.Sleep(50 * time.Millisecond)
	if b, err := os.ReadFile(r.file); err != nil || !bytes.Equal(b, r.old) {
		t.Errorf("during the run the file is %q (%v), want the last run's", b, err)
	}
	r.conn.Write([]byte("554 5.3.2 Service not available\r\n"))
	r.conn.Close()
	if err := r.stop(); err == nil {
		t.Errorf("exit 0, want 1 (the check failed)")
	}
	b, err := os.ReadFile(r.file)
	if err != nil {
		t.Fatal(err)
	}
	families := parseMetrics(t, b)
	if v, ok := gaugeValue(families, "smtpdiag_check_success", map[string]string{"suite": "metrics", "check": "greets when the test says so", "endpoint": "slow"}); !ok || v != 0 {
		t.Errorf("smtpdiag_check_success = %v (found %v), want 0\n%s", v, ok, b)
	}
	if v, _ := gaugeValue(families, "smtpdiag_run_timestamp_seconds", nil); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("smtpdiag_run_timestamp_seconds = %v, want about now", v)
	}
	n, bad := r.reads()
	if len(bad) > 0 {
		t.Errorf("%d of %d reads found no whole file; first: %s", len(bad), n, bad[0])
	}
	if n < 10 {
		t.Errorf("only %d reads during the run", n)
	}
	entries, _ := os.ReadDir(r.dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the textfile directory holds %v, want smtpdiag.prom alone", names)
	}
}

// TestMetricsInterrupted: a run ended by SIGTERM (a Kubernetes pod that is
// stopped, timeout(1)) still writes its metrics, saying so.
func TestMetricsInterrupted(t *testing.T) {
	r := startMetricsRun(t)
	r.signal(syscall.SIGTERM)
	r.stop()
	b, err := os.ReadFile(r.file)
	if err != nil {
		t.Fatal(err)
	}
	families := parseMetrics(t, b)
	if v, _ := gaugeValue(families, "smtpdiag_run_interrupted", nil); v != 1 {
		t.Errorf("smtpdiag_run_interrupted = %v, want 1\n%s", v, b)
	}
	if _, bad := r.reads(); len(bad) > 0 {
		t.Errorf("a read found no whole file: %s", bad[0])
	}
}
