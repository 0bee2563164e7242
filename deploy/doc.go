// Package deploy holds no code: its directory holds the files that run
// smtpdiag on a schedule and alert on its metrics (kubernetes/: CronJobs,
// the suites' ConfigMap, a Pushgateway; prometheus/: alerting rules), and
// its tests check them: each manifest against the Kubernetes API types,
// strictly, the rules with Prometheus' own rule parser, and both against
// what smtpdiag writes and reads. See docs/monitoring.md.
//
// The tests import the Prometheus server module and the Kubernetes API
// types; no package of smtpdiag imports this one, so that neither is ever
// part of the binary.
package deploy
