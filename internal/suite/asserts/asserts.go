// Package asserts evaluates the assert blocks of a suite (Terraform-test
// style) once a check has run: it builds the result object their
// conditions see (suite.ResultType) from the check's result, and records
// a condition that is false, or that cannot be evaluated, as a failure of
// the check. It keeps HCL and cty on the suite side: the results model and
// the reporters know nothing of them.
package asserts

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/smtpdiag/smtpdiag/internal/esmtp"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// Expectation is the name a failed assert block gets in a check's
// failures (result.Failure.Expectation).
const Expectation = "assert"

// Apply evaluates the assert blocks of c against res, the result of
// running c, and records in res each one whose condition is false (a
// failure "assert" with its error_message) or cannot be evaluated (a
// failure "assert" that gives the position of the expression and why).
// A check that passed its expectations fails when an assertion does.
// Checks that were skipped or errored, and checks without assert blocks,
// are left alone. Messages are masked with red, and a panic in an
// assertion is a failure too, never a crash.
func Apply(c suite.Check, res *result.Check, red *redact.Redactor) {
	var list []suite.Assertion
	switch {
	case c.SMTP != nil:
		list = c.SMTP.Assertions
	case c.DNS != nil:
		list = c.DNS.Assertions
	}
	if len(list) == 0 || res == nil || res.Status == result.Skipped || res.Status == result.Errored {
		return
	}
	var failures []result.Failure
	defer func() {
		if p := recover(); p != nil {
			failures = append(failures, result.Failure{Expectation: Expectation,
				Message: fmt.Sprintf("%s: internal error while evaluating an assert block: %v", Expectation, p)})
		}
		for _, f := range failures {
			f.Message = red.String(f.Message)
			res.Failures = append(res.Failures, f)
		}
		if len(failures) > 0 && res.Status == result.Passed {
			res.Status = result.Failed
		}
	}()
	v := Value(res)
	for i := range list {
		a := &list[i]
		holds, message, diags := a.Check(v)
		switch {
		case diags.HasErrors():
			failures = append(failures, result.Failure{Expectation: Expectation, Message: Expectation + ": " + errorText(diags)})
		case !holds:
			failures = append(failures, result.Failure{Expectation: Expectation, Message: Expectation + ": " + message})
		}
	}
}

// errorText renders the first error of an evaluation on one line, with
// the position of the expression: "suite.hcl:12:21: Unsupported
// attribute: ...".
func errorText(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		text := d.Summary
		if d.Detail != "" {
			text += ": " + d.Detail
		}
		if d.Subject != nil {
			text = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, text)
		}
		return strings.Join(strings.Fields(text), " ")
	}
	return "the condition could not be evaluated"
}

// Value is the result object an assert block of res's check sees as
// result: a value of suite.ResultType(res.Kind), documented attribute by
// attribute in docs/suite-language.md. A kind without assert blocks gets
// cty.NilVal.
func Value(res *result.Check) cty.Value {
	switch res.Kind {
	case "smtp":
		return smtpValue(res)
	case "dns":
		return dnsValue(res)
	}
	return cty.NilVal
}

// smtpValue is the result object of an smtp check. What did not happen
// is null (a reply, the TLS session) or empty (a list, a string).
func smtpValue(res *result.Check) cty.Value {
	conv := res.Conversation
	if conv == nil {
		conv = &result.Conversation{}
	}
	stoppedAt := ""
	if s := conv.Stop(); s != nil {
		stoppedAt = string(s.Step)
	}
	connected := false
	for _, s := range conv.StepsOf(result.StepConnect) {
		connected = s.Fault == nil
	}
	var rcpts []cty.Value
	for _, s := range conv.StepsOf(result.StepRcpt) {
		rcpts = append(rcpts, replyValue(s.Reply))
	}
	var steps []cty.Value
	for _, s := range conv.Steps {
		steps = append(steps, stepValue(s))
	}
	return cty.ObjectVal(map[string]cty.Value{
		"kind":           cty.StringVal("smtp"),
		"endpoint":       cty.StringVal(res.Endpoint),
		"target":         cty.StringVal(res.Target),
		"attempts":       cty.NumberIntVal(int64(res.Attempts)),
		"connected":      cty.BoolVal(connected),
		"remote_address": cty.StringVal(conv.RemoteAddr),
		"local_address":  cty.StringVal(conv.LocalAddr),
		"client_ip":      cty.StringVal(conv.ClientIP),
		"stopped_at":     cty.StringVal(stoppedAt),
		"data_sent":      cty.BoolVal(conv.DataSent),
		"duration":       seconds(conv.Duration),
		"banner":         replyValue(lastReply(conv, result.StepBanner)),
		"ehlo":           ehloValue(conv),
		"starttls":       replyValue(lastReply(conv, result.StepStartTLS)),
		"tls":            tlsValue(conv.TLS, res.Started),
		"auth":           replyValue(lastReply(conv, result.StepAuth)),
		"mail":           replyValue(lastReply(conv, result.StepMail)),
		"rcpt":           listOf(rcpts, suite.ResultType("smtp").AttributeType("rcpt").ElementType()),
		"data":           replyValue(lastReply(conv, result.StepData)),
		"message":        replyValue(lastReply(conv, result.StepMessage)),
		"quit":           replyValue(lastReply(conv, result.StepQuit)),
		"steps":          listOf(steps, suite.ResultType("smtp").AttributeType("steps").ElementType()),
		"timings":        timingsValue(conv),
		"lookups":        lookupsValue(res.Lookups),
	})
}

// replyType is the type of a reply in the result object.
var replyType = suite.ResultType("smtp").AttributeType("banner")

// replyValue is a reply object, or null.
func replyValue(r *esmtp.Reply) cty.Value {
	if r == nil {
		return cty.NullVal(replyType)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"code":     cty.NumberIntVal(int64(r.Code)),
		"enhanced": cty.StringVal(r.Enhanced),
		"text":     cty.StringVal(r.Text()),
		"lines":    stringList(r.Lines),
		"line":     cty.StringVal(r.String()),
		"positive": cty.BoolVal(r.Positive()),
	})
}

// lastReply is the reply of the last step of a kind, or nil.
func lastReply(conv *result.Conversation, step result.Step) *esmtp.Reply {
	steps := conv.StepsOf(step)
	if len(steps) == 0 {
		return nil
	}
	return steps[len(steps)-1].Reply
}

// ehloType is the type of an EHLO reply's extensions before or after TLS.
var ehloType = suite.ResultType("smtp").AttributeType("ehlo").AttributeType("before_tls")

// extensionsValue describes the extensions of one EHLO reply, or null
// when that EHLO did not happen.
func extensionsValue(x esmtp.Extensions) cty.Value {
	if x == nil {
		return cty.NullVal(ehloType)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"extensions":      stringList(keywords(x)),
		"lines":           stringList(x.Lines()),
		"auth_mechanisms": stringList(x.AuthMechanisms()),
	})
}

// keywords are the extension keywords of an EHLO reply, upper-cased.
func keywords(x esmtp.Extensions) []string {
	out := make([]string, 0, len(x))
	for _, e := range x {
		if e.Keyword != "" {
			out = append(out, e.Keyword)
		}
	}
	return out
}

// ehloValue describes the EHLO replies: the last one, and each side of
// STARTTLS.
func ehloValue(conv *result.Conversation) cty.Value {
	last := conv.LastEHLO()
	reply := lastReply(conv, result.StepEHLO)
	greeting := ""
	if reply != nil && len(reply.Lines) > 0 {
		greeting = reply.Lines[0]
	}
	return cty.ObjectVal(map[string]cty.Value{
		"reply":           replyValue(reply),
		"greeting":        cty.StringVal(greeting),
		"extensions":      stringList(keywords(last)),
		"lines":           stringList(last.Lines()),
		"auth_mechanisms": stringList(last.AuthMechanisms()),
		"used_helo":       cty.BoolVal(conv.UsedHELO),
		"before_tls":      extensionsValue(conv.EHLOBeforeTLS),
		"after_tls":       extensionsValue(conv.EHLOAfterTLS),
	})
}

// tlsType and certificateType are the types of the TLS session and of a
// certificate in the result object.
var (
	tlsType         = suite.ResultType("smtp").AttributeType("tls")
	certificateType = tlsType.AttributeType("certificate")
)

// tlsValue describes the TLS session, or null without one. days_left
// counts from now, the time the check started.
func tlsValue(t *result.TLSInfo, now time.Time) cty.Value {
	if t == nil {
		return cty.NullVal(tlsType)
	}
	version := cty.NullVal(cty.Number)
	if strings.HasPrefix(t.Version, "1.") {
		if v, err := cty.ParseNumberVal(t.Version); err == nil {
			version = v
		}
	}
	var chain []cty.Value
	for _, c := range t.Chain {
		chain = append(chain, certificateValue(c, now))
	}
	leaf := cty.NullVal(certificateType)
	if len(chain) > 0 {
		leaf = chain[0]
	}
	client := cty.NullVal(certificateType)
	if t.ClientCertificate != nil {
		client = certificateValue(*t.ClientCertificate, now)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"version":      version,
		"version_name": cty.StringVal(t.Version),
		"cipher":       cty.StringVal(t.CipherSuite),
		"server_name":  cty.StringVal(t.ServerName),
		"verified":     cty.BoolVal(t.Verified),
		"verify_error": cty.StringVal(t.VerifyError),
		"certificate":  leaf,
		"chain":        listOf(chain, certificateType),

		"client_certificate_requested": cty.BoolVal(t.ClientCertificateRequested),
		"client_certificate":           client,
	})
}

// certificateValue describes one certificate of the chain.
func certificateValue(c result.Certificate, now time.Time) cty.Value {
	if now.IsZero() {
		now = time.Now()
	}
	days := int64(c.NotAfter.Sub(now) / (24 * time.Hour))
	return cty.ObjectVal(map[string]cty.Value{
		"subject":       cty.StringVal(c.Subject),
		"issuer":        cty.StringVal(c.Issuer),
		"dns_names":     stringList(c.DNSNames),
		"ip_addresses":  stringList(c.IPAddresses),
		"serial_number": cty.StringVal(c.SerialNumber),
		"sha256":        cty.StringVal(c.SHA256),
		"not_before":    cty.StringVal(c.NotBefore.UTC().Format(time.RFC3339)),
		"not_after":     cty.StringVal(c.NotAfter.UTC().Format(time.RFC3339)),
		"days_left":     cty.NumberIntVal(days),
	})
}

// stepValue describes one step of the conversation.
func stepValue(s result.StepRecord) cty.Value {
	faultType := suite.ResultType("smtp").AttributeType("steps").ElementType().AttributeType("fault")
	fault := cty.NullVal(faultType)
	if s.Fault != nil {
		fault = cty.ObjectVal(map[string]cty.Value{
			"kind":    cty.StringVal(string(s.Fault.Kind)),
			"message": cty.StringVal(s.Fault.Error()),
		})
	}
	return cty.ObjectVal(map[string]cty.Value{
		"step":      cty.StringVal(string(s.Step)),
		"command":   cty.StringVal(s.Command),
		"after_tls": cty.BoolVal(s.AfterTLS),
		"reply":     replyValue(s.Reply),
		"fault":     fault,
		"start":     seconds(s.Start),
		"duration":  seconds(s.Duration),
	})
}

// timingsValue gives the seconds each step took, summed over the steps
// of a kind (the RCPTs, both EHLOs); null for a step not taken.
func timingsValue(conv *result.Conversation) cty.Value {
	out := map[string]cty.Value{}
	for _, step := range []result.Step{result.StepConnect, result.StepBanner, result.StepEHLO, result.StepStartTLS,
		result.StepTLS, result.StepAuth, result.StepMail, result.StepRcpt, result.StepData, result.StepMessage, result.StepQuit} {
		steps := conv.StepsOf(step)
		if len(steps) == 0 {
			out[string(step)] = cty.NullVal(cty.Number)
			continue
		}
		var total time.Duration
		for _, s := range steps {
			total += s.Duration
		}
		out[string(step)] = seconds(total)
	}
	return cty.ObjectVal(out)
}

// lookupType is the type of a DNS exchange in the result object.
var lookupType = suite.ResultType("smtp").AttributeType("lookups").ElementType()

// lookupsValue describes the check's DNS exchanges.
func lookupsValue(lookups []result.Lookup) cty.Value {
	var out []cty.Value
	for _, l := range lookups {
		out = append(out, cty.ObjectVal(map[string]cty.Value{
			"name":      cty.StringVal(l.Name),
			"type":      cty.StringVal(l.Type),
			"server":    cty.StringVal(l.Server),
			"transport": cty.StringVal(l.Transport),
			"rcode":     cty.StringVal(l.Rcode),
			"answers":   stringList(l.Answers),
			"error":     cty.StringVal(l.Error),
			"duration":  seconds(l.Duration),
		}))
	}
	return listOf(out, lookupType)
}

// dnsValue is the result object of a dns check.
func dnsValue(res *result.Check) cty.Value {
	out := res.DNS
	if out == nil {
		out = &result.DNSOutcome{}
	}
	verdictType := suite.ResultType("dns").AttributeType("spf").AttributeType("verdicts").ElementType()
	var verdicts []cty.Value
	for _, v := range out.SPF {
		verdicts = append(verdicts, cty.ObjectVal(map[string]cty.Value{
			"ip":        cty.StringVal(v.IP),
			"result":    cty.StringVal(v.Result),
			"mechanism": cty.StringVal(v.Mechanism),
			"reason":    cty.StringVal(v.Reason),
		}))
	}
	return cty.ObjectVal(map[string]cty.Value{
		"kind":     cty.StringVal("dns"),
		"name":     cty.StringVal(out.Name),
		"type":     cty.StringVal(out.Type),
		"resolver": cty.StringVal(res.Resolver),
		"rcode":    cty.StringVal(out.Rcode),
		"records":  stringList(out.Records),
		"error":    cty.StringVal(out.Error),
		"duration": seconds(res.Duration),
		"spf": cty.ObjectVal(map[string]cty.Value{
			"record":   cty.StringVal(out.SPFRecord),
			"includes": stringList(out.SPFIncludes),
			"error":    cty.StringVal(out.SPFError),
			"verdicts": listOf(verdicts, verdictType),
		}),
		"dmarc": cty.ObjectVal(map[string]cty.Value{
			"record": cty.StringVal(out.DMARCRecord),
			"policy": cty.StringVal(out.DMARCPolicy),
			"error":  cty.StringVal(out.DMARCError),
		}),
		"ptr": cty.ObjectVal(map[string]cty.Value{
			"names":             stringList(out.PTRNames),
			"forward_confirmed": stringList(out.ForwardConfirmed),
			"error":             cty.StringVal(out.FCrDNSError),
		}),
		"lookups": lookupsValue(res.Lookups),
	})
}

// stringList is a list of strings, empty (not null) for none.
func stringList(list []string) cty.Value {
	vals := make([]cty.Value, len(list))
	for i, s := range list {
		vals[i] = cty.StringVal(s)
	}
	return listOf(vals, cty.String)
}

// listOf is a list of vals of element type ty, empty (not null) for none.
func listOf(vals []cty.Value, ty cty.Type) cty.Value {
	if len(vals) == 0 {
		return cty.ListValEmpty(ty)
	}
	return cty.ListVal(vals)
}

// seconds is a duration in seconds, with millisecond precision.
func seconds(d time.Duration) cty.Value {
	return cty.NumberVal(new(big.Float).SetFloat64(float64(d.Milliseconds()) / 1000))
}
