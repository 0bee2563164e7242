package main

import (
	"os"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/evidence"
	"github.com/smtpdiag/smtpdiag/internal/report/jsonreport"
	"github.com/smtpdiag/smtpdiag/internal/report/junit"
	"github.com/smtpdiag/smtpdiag/internal/report/metrics"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// writeReportFiles writes the JUnit, JSON and evidence report files that
// f asks for, the same way for every command that produces results.
func writeReportFiles(results []*result.Suite, f runFlags, red *redact.Redactor) error {
	var host string
	if f.junit != "" || f.report != "" {
		host = f.fleet.reportHost()
	}
	if f.junit != "" {
		if err := writeFile(f.junit, func(w *os.File) error {
			return junit.Write(w, results, junit.Options{Redactor: red, Hostname: host})
		}); err != nil {
			return err
		}
	}
	if f.json != "" {
		if err := writeFile(f.json, func(w *os.File) error {
			return jsonreport.Write(w, results, jsonreport.Options{Redactor: red, Version: f.fleet.reportVersion(), Shard: f.fleet.info})
		}); err != nil {
			return err
		}
	}
	if f.report != "" {
		if err := writeFile(f.report, func(w *os.File) error {
			return evidence.Write(w, f.reportFormat, results, evidence.Options{
				Redactor:  red,
				Generated: reportClock(),
				Hostname:  host,
				Version:   f.fleet.reportVersion(),
			})
		}); err != nil {
			return err
		}
	}
	if f.metrics != "" {
		if err := writeFile(f.metrics, func(w *os.File) error {
			return metrics.Write(w, results, metrics.Options{Redactor: red, Version: f.fleet.reportVersion()})
		}); err != nil {
			return err
		}
	}
	return nil
}

// metricsOutput is the --metrics file, checked before any traffic like
// the other outputs but, unlike them, not removed when the run starts:
// node_exporter's textfile collector keeps serving the last run's metrics
// until the new file is renamed into place, so that no series vanishes
// (and no alert resolves) while a run is under way, and a run that dies
// leaves the earlier file, whose smtpdiag_run_timestamp_seconds ages.
func (f *runFlags) metricsOutput() []string {
	if f.metrics == "" {
		return nil
	}
	return []string{f.metrics}
}

// metricsUsage is the help of --metrics.
const metricsUsage = "write the results as Prometheus metrics (text format, for node_exporter's textfile collector or a Pushgateway) to `FILE`"
