package assertions

import (
	"errors"

	"github.com/smtpdiag/smtpdiag/internal/conversation"
)

// pattern: placeholder until the implementation lands.
type pattern struct{}

// ParsePattern parses a reply pattern written as a string.
func ParsePattern(s string) (Pattern, error) { return Pattern{}, errors.New("not implemented") }

// PatternFromCode makes the pattern for an exact basic code written as a number.
func PatternFromCode(code int) (Pattern, error) { return Pattern{}, errors.New("not implemented") }

// Match reports whether the reply matches the pattern.
func (p Pattern) Match(r conversation.Reply) bool { return false }

// ParseComparison parses ">= 1.2", "< 14", "=1.3" or a bare number.
func ParseComparison(s string) (Comparison, error) { return Comparison{}, errors.New("not implemented") }

// Holds reports whether v satisfies the comparison.
func (c Comparison) Holds(v float64) bool { return false }

// Evaluate checks the expectations (nil: the default rule, every step
// positive) against a conversation and returns the failures in a stable
// order, the most telling first. now is the reference time for certificate
// expiry.
func Evaluate(e *Expect, c *conversation.Conversation) []Failure { return nil }
