package main

import (
	"os"
	"strings"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/report/jsonreport"
	"github.com/smtpdiag/smtpdiag/internal/report/summary"
)

const explainUsage = `Usage: smtpdiag explain [flags] CODE | "REPLY TEXT" | AADSTSnnnn

Explains an SMTP reply the way Exchange Online means it: category, meaning,
the usual fix, the Microsoft setting involved, and the source.

CODE is a basic code (530), an enhanced code (5.7.139), or a reply or NDR
line pasted whole; the basic code, the enhanced code and any IP address in
square brackets are found in it:

  smtpdiag explain 5.7.139
  smtpdiag explain 530
  smtpdiag explain "550 5.7.606 Access denied, banned sending IP [203.0.113.5]"

A Microsoft Entra ID error code from an oauth block's token request, or
MSAL's message holding one, is explained as a token error:

  smtpdiag explain AADSTS7000215

A code that Exchange Online does not document gets its RFC 3463 (enhanced)
or RFC 5321 (basic) meaning. No network traffic.

Exit codes: 0 explained, 1 nothing is known about the code (neither
Exchange Online nor the RFCs define it; for an AADSTS code, the knowledge
base does not cover it), 2 the argument holds no reply code.
`

func cmdExplain(args []string, e env) error {
	var format, jsonFile string
	fs := newFlagSet("explain", explainUsage, e.stdout)
	fs.StringVar(&format, "format", "text", "what to print, `FORMAT`: text or json")
	fs.StringVar(&jsonFile, "json", "", "also write the explanation as JSON to `FILE`")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("explain needs a reply code or a reply text, e.g. smtpdiag explain 5.7.139")
	}
	if format != "text" && format != "json" {
		return usagef("--format %s: write text or json", format)
	}
	if jsonFile != "" {
		if err := checkOutput(jsonFile); err != nil {
			return err
		}
	}
	// Unquoted reply texts arrive as several arguments.
	input := strings.TrimSpace(strings.Join(rest, " "))
	x, err := knowledge.Explain(input)
	if err != nil {
		return usagef("%s", err)
	}
	if format == "json" {
		if err := jsonreport.WriteExplanation(e.stdout, x); err != nil {
			return err
		}
	} else {
		summary.WriteExplanation(e.stdout, x, outputWidth(e.stdout, e.getenv))
	}
	if jsonFile != "" {
		if err := writeFile(jsonFile, func(f *os.File) error { return jsonreport.WriteExplanation(f, x) }); err != nil {
			return err
		}
	}
	if !x.Understood() {
		return checksFailed{}
	}
	return nil
}
