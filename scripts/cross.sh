#!/usr/bin/env bash
# cross.sh [GOOS/GOARCH...]: builds smtpdiag for every OS it ships on and
# runs go vet there, test files included, so that code for one OS (TCP_QUICKACK,
# FIFOs, signals) cannot break another.
#
#   default targets: windows/amd64 windows/arm64 darwin/arm64 linux/amd64 linux/arm64
#
# Each target is built with CGO_ENABLED=0 (the static binary that is
# released, and the only kind a cross build can make without a C cross
# compiler); the binary goes to $SMTPDIAG_CROSS_OUT (default: a temporary
# directory, removed afterwards), with -trimpath like a release; go vet
# gets -trimpath too, so that it finds the packages the build compiled in
# Go's build cache instead of compiling them again. go vet type-checks every package of the
# module as that target sees it, except ./deploy: its tests only read YAML
# files, and the Prometheus server module and Kubernetes types they import
# would add about 40 s of compiling per target on a fresh machine; the
# native go vet ./... covers it.
#
# Prints one line per target with its time, and exits non-zero when a
# build or vet fails.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(windows/amd64 windows/arm64 darwin/arm64 linux/amd64 linux/arm64)
fi

out=${SMTPDIAG_CROSS_OUT:-}
if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

mapfile -t pkgs < <(go list ./... | grep -v '/deploy$')

start=$SECONDS
for target in "${targets[@]}"; do
  goos=${target%/*}
  goarch=${target#*/}
  exe=smtpdiag-$goos-$goarch
  [ "$goos" = windows ] && exe=$exe.exe
  t0=$SECONDS
  GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 go build -trimpath -o "$out/$exe" ./cmd/smtpdiag
  GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 go vet -trimpath "${pkgs[@]}"
  size=$(( $(wc -c <"$out/$exe") / 1024 / 1024 ))
  echo "cross: $target: built $exe (${size} MiB) and vetted ${#pkgs[@]} packages in $((SECONDS - t0))s"
done
echo "cross: ${#targets[@]} targets in $((SECONDS - start))s"
