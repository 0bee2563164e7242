package runner

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/smtpdiag/smtpdiag/internal/knowledge"
	"github.com/smtpdiag/smtpdiag/internal/oauth"
	"github.com/smtpdiag/smtpdiag/internal/redact"
	"github.com/smtpdiag/smtpdiag/internal/result"
	"github.com/smtpdiag/smtpdiag/internal/smtpclient"
	"github.com/smtpdiag/smtpdiag/internal/suite"
)

// transcriptHead is what a check's transcript shows before its
// conversation: the OAuth token request, then the MX lookups, with
// offsets from start, the first of them.
type transcriptHead struct {
	start time.Time
	lines []result.TranscriptLine
}

// add appends lines that began at began, whose offsets count from began.
func (h *transcriptHead) add(began time.Time, lines []result.TranscriptLine) {
	if len(lines) == 0 {
		return
	}
	if h.start.IsZero() {
		h.start = began
	}
	shift := began.Sub(h.start)
	if shift < 0 || began.IsZero() {
		shift = 0
	}
	for _, l := range lines {
		l.Offset += shift
		h.lines = append(h.lines, l)
	}
}

// put prepends the head to a conversation's transcript, whose offsets
// become offsets from the head's start, so that it reads in time order.
func (h *transcriptHead) put(conv *result.Conversation) {
	if len(h.lines) == 0 {
		return
	}
	shift := time.Duration(0)
	if !conv.Started.IsZero() && conv.Started.After(h.start) {
		shift = conv.Started.Sub(h.start)
	}
	for i := range conv.Transcript {
		conv.Transcript[i].Offset += shift
	}
	conv.Transcript = append(slices.Clone(h.lines), conv.Transcript...)
}

// acquireToken gets the access token of a check whose auth block has an
// oauth block, before its conversation, from the run's Source (one
// request per distinct block per run), and puts it in the plan. The
// token joins the check's Redactor (returned) and the run's, in every
// form XOAUTH2 sends it. res.Token records the request and the token's
// claims, with the problems Exchange Online will refuse it for (the
// check goes on: its reply is the proof). A request that fails ends the
// check (stop): a failure, "auth: token: ...", explained from the AADSTS
// code; one an interruption canceled, a skipped check.
func acquireToken(ctx context.Context, c *suite.SMTPCheck, plan *smtpclient.Plan, res *result.Check, opts Options,
	red *redact.Redactor) (lines []result.TranscriptLine, began time.Time, checkRed *redact.Redactor, stop bool) {
	began = opts.Now()
	cfg := c.Auth.OAuth.Config()
	tok, err := opts.Tokens.Token(ctx, cfg)
	if err != nil {
		res.Token = failedToken(cfg, err)
		res.Token.Redact(red.String)
		res.Token.Redact(opts.Redactor.String)
		var e *oauth.Error
		if errors.As(err, &e) && e.Kind == oauth.KindCanceled && ctx.Err() != nil && deadlineOf(ctx) == nil {
			res.Status = result.Skipped
			res.Error = "not run: " + Interruption(ctx)
			return nil, began, red, true
		}
		msg := "auth: token: " + err.Error()
		if d := deadlineOf(ctx); d != nil && errors.As(err, &e) && e.Kind == oauth.KindCanceled {
			msg += " (" + d.Error() + ")"
		}
		res.Status = result.Failed
		res.Failures = []result.Failure{{Expectation: "auth", Message: red.String(opts.Redactor.String(msg))}}
		res.Diagnosis = knowledge.DiagnoseToken(res.Token)
		return nil, began, red, true
	}
	checkRed = red.Clone().WithAuth(c.Auth.Username, tok.Bearer())
	if opts.Redactor != nil {
		opts.Redactor.WithAuth(c.Auth.Username, tok.Bearer())
	}
	plan.Auth.Token = tok.Bearer()
	plan.Redactor = checkRed
	rec := tok.Record
	if rec.Claims != nil {
		// A cached token is judged as of now, not as of its request.
		rec.Problems = nil
		for _, p := range tok.Problems() {
			rec.Problems = append(rec.Problems, p.String())
		}
	}
	res.Token = tokenRecord(rec)
	res.Token.Redact(checkRed.String)
	return res.Token.TranscriptLines(0), began, checkRed, false
}

// deadlineOf returns the check deadline that ended ctx, or nil.
func deadlineOf(ctx context.Context) *smtpclient.CheckDeadline {
	var d *smtpclient.CheckDeadline
	if errors.As(context.Cause(ctx), &d) {
		return d
	}
	return nil
}

// tokenRecord copies what package oauth recorded of a request into the
// results model, which imports no protocol library.
func tokenRecord(r oauth.Record) *result.Token {
	t := &result.Token{
		Authority:  r.Authority,
		Tenant:     r.Tenant,
		ClientID:   r.ClientID,
		Scope:      r.Scope,
		Grant:      string(r.Grant),
		Credential: r.Credential,
		Outcome:    string(r.Outcome),
		Error:      r.Error,
		AADSTS:     r.AADSTS,
		Problems:   slices.Clone(r.Problems),
		Duration:   r.Duration,
		Lines:      r.Lines(),
	}
	if c := r.Claims; c != nil {
		t.Claims = &result.TokenClaims{
			Audience:  slices.Clone(c.Audience),
			Roles:     slices.Clone(c.Roles),
			Scopes:    slices.Clone(c.Scopes),
			AppID:     c.AppID,
			TenantID:  c.TenantID,
			ObjectID:  c.ObjectID,
			UPN:       c.UPN,
			Issuer:    c.Issuer,
			ExpiresAt: c.ExpiresAt,
		}
	}
	return t
}

// failedToken records a request that failed: what the *oauth.Error says,
// or, for a Config the identity provider was never asked with (an
// *oauth.ConfigError), what the block asked for.
func failedToken(cfg oauth.Config, err error) *result.Token {
	var e *oauth.Error
	if errors.As(err, &e) {
		t := tokenRecord(e.Record)
		t.ErrorKind, t.OAuthError = string(e.Kind), e.OAuthError
		t.TraceID, t.CorrelationID = e.TraceID, e.CorrelationID
		if t.Error == "" {
			t.Error = err.Error()
		}
		return t
	}
	rec := oauth.Record{Authority: cfg.Authority, Tenant: cfg.Tenant, ClientID: cfg.ClientID, Scope: cfg.Scope,
		Grant: cfg.Flow, Outcome: oauth.Failed, Error: err.Error()}
	if rec.Grant == "" {
		rec.Grant = oauth.ClientCredentials
	}
	t := tokenRecord(rec)
	t.ErrorKind = "config"
	return t
}
