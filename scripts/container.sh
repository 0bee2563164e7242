#!/usr/bin/env bash
# container.sh [build|check]: smtpdiag's container image (FROM scratch: the
# static binary, a CA bundle, a non-root user, no shell), built offline with
# podman.
#
#   build   build the image (default)
#   check   build it, check what is in it, and run `smtpdiag demo` inside
#           it with --network none (the demo starts its simulator on
#           loopback inside the container); where this machine cannot run
#           containers at all, say so in one line and exit 0; a broken
#           image or a demo that fails exits non-zero
#
# Environment:
#   SMTPDIAG_IMAGE       image name (default localhost/smtpdiag:dev)
#   SMTPDIAG_IMAGE_ARCH  GOARCH of the image (default: this machine's);
#                        arm64 builds an arm64 image on amd64 too, since
#                        the image has no RUN step to emulate
#   SMTPDIAG_CA_BUNDLE   the CA bundle to copy in (default Debian's,
#                        /etc/ssl/certs/ca-certificates.crt)
#
# Why podman: it builds a Containerfile without a daemon (Docker needs one,
# and none runs here), as root or rootless, and the same tool runs the
# image; buildah would build it as well, but cannot run it. The binary is
# built outside with go build (CGO_ENABLED=0), so the build needs neither
# a Go image nor a registry: FROM scratch pulls nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${SMTPDIAG_IMAGE:-localhost/smtpdiag:dev}
goarch=${SMTPDIAG_IMAGE_ARCH:-$(go env GOARCH)}
ca=${SMTPDIAG_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
uid=65532 # the user of scripts/container/passwd

die() { echo "container: $*" >&2; exit 1; }

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

build() {
  command -v podman >/dev/null || die "podman is not installed (Debian: apt-get install podman)"
  [ -s "$ca" ] || die "no CA bundle at $ca (Debian: apt-get install ca-certificates)"
  local t0=$SECONDS
  local root=$ctx/rootfs
  mkdir -p "$root/etc/ssl/certs" "$root/tmp"
  chmod 1777 "$root/tmp"
  CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -trimpath -ldflags='-s -w' -o "$root/smtpdiag" ./cmd/smtpdiag
  cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
  cp scripts/container/passwd scripts/container/group "$root/etc/"
  chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/ssl/certs/ca-certificates.crt"
  chmod 0755 "$root/smtpdiag"
  cp scripts/container/Containerfile "$ctx/Containerfile"
  local version old
  version=$(go version -m "$root/smtpdiag" | awk '$1 == "mod" { print $3; exit }')
  old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  # --no-cache: the layer is one COPY, and buildah's cache key would not
  # see a changed file mode (such as /tmp's 1777) in the context.
  podman build --quiet --no-cache --layers=false --network=none --platform "linux/$goarch" \
    --build-arg "VERSION=$version" --tag "$image" --file "$ctx/Containerfile" "$ctx" >/dev/null
  # The image this one replaced keeps no tag; remove it, so that repeated
  # builds (CI) do not fill the disk. It stays if a container still uses it.
  if [ -n "$old" ] && [ "$old" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
    podman rmi "$old" >/dev/null 2>&1 || true
  fi
  local size
  size=$(podman image inspect --format '{{.Size}}' "$image")
  echo "container: built $image (linux/$goarch, $((size / 1024 / 1024)) MiB) with podman in $((SECONDS - t0))s"
}

# inspect checks the image against what it must be: these files and no
# others (no shell, no libc), the numeric non-root user, a static binary.
inspect() {
  local user entry files want
  user=$(podman image inspect --format '{{.Config.User}}' "$image")
  [ "$user" = "$uid:$uid" ] || die "$image runs as '$user', want $uid:$uid"
  entry=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$image")
  [ "$entry" = '["/smtpdiag"]' ] || die "$image has the entrypoint $entry, want [\"/smtpdiag\"]"
  local c
  c=$(podman create "$image")
  mkdir "$ctx/export"
  podman export "$c" | tar -x -C "$ctx/export" --no-same-owner
  files=$(podman export "$c" | tar -tv | awk '{ print $1, $NF }' | sort)
  podman rm "$c" >/dev/null
  want=$(printf '%s\n' \
    'drwxr-xr-x etc/' \
    'drwxr-xr-x etc/ssl/' \
    'drwxr-xr-x etc/ssl/certs/' \
    '-rw-r--r-- etc/group' \
    '-rw-r--r-- etc/passwd' \
    '-rw-r--r-- etc/ssl/certs/ca-certificates.crt' \
    '-rwxr-xr-x smtpdiag' \
    'drwxrwxrwt tmp/' | sort)
  if [ "$files" != "$want" ]; then
    die "$image holds other files than it should:
$(diff <(echo "$want") <(echo "$files") || true)"
  fi
  grep -q "^smtpdiag:x:$uid:$uid:" "$ctx/export/etc/passwd" || die "no user $uid in /etc/passwd"
  local info
  info=$(go version -m "$ctx/export/smtpdiag")
  grep -q 'CGO_ENABLED=0' <<<"$info" || die "the binary was not built with CGO_ENABLED=0"
  grep -q 'GOOS=linux' <<<"$info" || die "the binary is not a Linux binary"
  echo "container: $image holds /smtpdiag (static, CGO_ENABLED=0), the CA bundle, /etc/passwd and /etc/group, /tmp, nothing else; runs as $uid:$uid"
}

# cannot_run tells whether a failed podman run failed because this machine
# cannot run containers (resource limits, cgroups, namespaces denied to the
# sandbox), rather than because of the image.
cannot_run() {
  local rc=$1 err=$2
  [ "$rc" = 125 ] || [ "$rc" = 126 ] || return 1
  grep -Eqi 'setrlimit|rlimit|cgroup|unshare|namespace|newuidmap|pivot_root|mount proc' <<<"$err"
}

run_demo() {
  local runtime=$1
  podman ${runtime:+--runtime "$runtime"} run --rm --network none --read-only \
    --cap-drop ALL --security-opt no-new-privileges \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    "$image" demo --no-color
}

check() {
  build
  inspect
  if [ "$goarch" != "$(go env GOARCH)" ]; then
    echo "container: $image is linux/$goarch; this machine is $(go env GOARCH), so the demo does not run inside it here"
    return 0
  fi
  local runtimes=("") out err rc t0 reason=""
  # Debian's podman runs crun, which cannot run a container in some
  # sandboxes (hybrid cgroups); runc may, where it is installed.
  command -v runc >/dev/null && runtimes+=(runc)
  local default_runtime name
  default_runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || echo default)
  for runtime in "${runtimes[@]}"; do
    name=${runtime:-$default_runtime}
    t0=$SECONDS
    rc=0
    out=$(run_demo "$runtime" 2>"$ctx/stderr") || rc=$?
    err=$(cat "$ctx/stderr")
    if [ "$rc" = 0 ] && grep -q '^Demo OK' <<<"$out"; then
      echo "container: smtpdiag demo inside $image with --network none, read-only, as $uid (runtime $name${reason:+; $reason}): $(grep '^Demo OK' <<<"$out") ($((SECONDS - t0))s)"
      return 0
    fi
    if cannot_run "$rc" "$err"; then
      reason="$reason${reason:+; }$name: $(grep -Ei 'setrlimit|rlimit|cgroup|unshare|namespace|newuidmap|pivot_root|mount proc' <<<"$err" | head -1 | sed 's/^Error: //')"
      continue
    fi
    echo "$out"
    echo "$err" >&2
    die "smtpdiag demo failed inside $image (exit $rc, runtime $name)"
  done
  echo "container: this machine cannot run containers ($reason), so smtpdiag demo did not run inside $image; the image was built and checked"
}

case ${1:-build} in
  build) build ;;
  check) check ;;
  *) echo "usage: scripts/container.sh [build|check]" >&2; exit 2 ;;
esac
