# bench/simulator.sh, sourced by the benchmark scripts (fleet.sh, load.sh).
#
# start_simulator builds smtpdiag and the simulator server into $work
# unless SMTPDIAG and SIMSERVER name them, starts the simulator on
# loopback, and sets smtpdiag, simserver, sim_pid, submission, mx and ca.
# The caller sets root (the repository) and work (a scratch directory),
# defines die, and kills $sim_pid when it ends.
start_simulator() {
  smtpdiag=${SMTPDIAG:-}
  simserver=${SIMSERVER:-}
  if [ -z "$smtpdiag" ] || [ -z "$simserver" ]; then
    (cd "$root" && go build -o "$work/smtpdiag" ./cmd/smtpdiag && go build -o "$work/simserver" ./bench/simserver) ||
      die "build failed"
    smtpdiag=$work/smtpdiag simserver=$work/simserver
  fi
  "$simserver" -ca-dir "$work" >"$work/sim.env" &
  sim_pid=$!
  for _ in $(seq 50); do grep -q '^CA_FILE=' "$work/sim.env" 2>/dev/null && break; sleep 0.1; done
  submission=$(sed -n 's/^SUBMISSION_ADDR=//p' "$work/sim.env")
  mx=$(sed -n 's/^MX_ADDR=//p' "$work/sim.env")
  ca=$(sed -n 's/^CA_FILE=//p' "$work/sim.env")
  [ -n "$ca" ] || die "the simulator did not start"
}
