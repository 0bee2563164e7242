package main

import (
	"os"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/report/evidence"
	"github.com/smtpdiag/smtpdiag/internal/report/jsonreport"
	"github.com/smtpdiag/smtpdiag/internal/report/junit"
	"github.com/smtpdiag/smtpdiag/internal/result"
)

// writeReportFiles writes the JUnit, JSON and evidence report files that
// f asks for, the same way for every command that produces results.
func writeReportFiles(results []*result.Suite, f runFlags, red *redact.Redactor) error {
	var host string
	if f.junit != "" || f.report != "" {
		host, _ = os.Hostname()
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
			return jsonreport.Write(w, results, jsonreport.Options{Redactor: red, Version: version()})
		}); err != nil {
			return err
		}
	}
	if f.report != "" {
		if err := writeFile(f.report, func(w *os.File) error {
			return evidence.Write(w, f.reportFormat, results, evidence.Options{
				Redactor:  red,
				Generated: time.Now(),
				Hostname:  host,
				Version:   version(),
			})
		}); err != nil {
			return err
		}
	}
	return nil
}
