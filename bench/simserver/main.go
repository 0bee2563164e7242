// Command simserver runs the in-process Exchange-Online-like simulator as a
// stand-alone process for the benchmark scripts: it prints the addresses of
// its endpoints and the path of its CA file as shell assignments, then
// serves until it receives SIGINT or SIGTERM.
//
//	SUBMISSION_ADDR=127.0.0.1:40123
//	MX_ADDR=127.0.0.1:40124
//	IMPLICIT_TLS_ADDR=127.0.0.1:40125
//	CA_FILE=/tmp/smtpdiag-simulator-ca-123.pem
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/smtpdiag/smtpdiag/internal/simulator"
)

func main() {
	dir := flag.String("ca-dir", "", "directory for the CA file (default: the system's temporary directory)")
	flag.Parse()
	sim, err := simulator.Start(simulator.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "simserver:", err)
		os.Exit(1)
	}
	ca, err := sim.WriteCAFile(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "simserver:", err)
		os.Exit(1)
	}
	defer os.Remove(ca)
	fmt.Printf("SUBMISSION_ADDR=%s\nMX_ADDR=%s\nIMPLICIT_TLS_ADDR=%s\nCA_FILE=%s\n",
		sim.SubmissionAddr, sim.MXAddr, sim.ImplicitTLSAddr, ca)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	sim.Close()
}
