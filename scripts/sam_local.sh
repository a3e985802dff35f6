#!/usr/bin/env bash
# Every function of template.yaml run by `sam local` in Docker against the seeded demo tenant, and checked.
#
#   scripts/sam_local.sh            (make sam-local; CI runs it from scripts/test.sh unless SKIP_SAM_LOCAL=1)
#
# 1. Docker: the running one when `docker info` answers; otherwise a private dockerd (data in .local/sam-local/docker,
#    its own socket, --iptables=false), installing Debian's docker.io (and socat, debootstrap) when missing.
# 2. The Lambda base image public.ecr.aws/lambda/python:3.13-x86_64: pulled; when the registry cannot be reached, a
#    stand-in is built once and cached (.local/sam-local/standin-*.tar): Debian trixie (its python3.13) plus the AWS
#    Lambda runtime interface client (awslambdaric) in /var/runtime. It is NOT Amazon Linux: it proves the handlers
#    and the layer built for python3.13 import and answer under SAM's emulator, not glibc compatibility.
# 3. `sam build` (.aws-sam/local), the demo tenant seeded into database crm_sam (on DATABASE_URL's server, or the
#    private PostgreSQL), moto on the docker bridge address, PostgreSQL forwarded there with socat, an --env-vars
#    file for the variables the template declares (DATABASE_URL, AWS_ENDPOINT_URL, DB_SECRET_ARN="", ...).
# 4. `sam local start-lambda --warm-containers LAZY` (the layer by ARN from SAM's layer cache: one image build, not
#    one per function): every functions/<name> called with events/<name>.json through boto3's Lambda client, as a
#    dry run then for real, then one `sam local invoke` of the template as built; each output checked (no errorType,
#    the output model's keys). A table, then everything this script started is stopped, by PID. Exit 1 naming what
#    failed.
#
# Settings: SAM_LOCAL_DATABASE (default crm_sam), SAM_LOCAL_HOST_ADDRESS (where containers reach this host; default
# the docker bridge gateway), DEBIAN_MIRROR (for the stand-in), SAM_LOCAL_KEEP_LOGS=1 (keep .local/sam-local/run),
# SAM_LOCAL_DEBUG=1 (start-lambda --debug, in .local/sam-local/run/start-lambda.log), SAM_LOCAL_FROM_BUILD=DIR (reuse
# a `sam build` of template.yaml for its runtime instead of building again; scripts/test.sh passes sam_check's),
# SAM_LOCAL_LAYER_IN_TEMPLATE=1 (start-lambda on the template as built), SAM_LOCAL_COMPILE=0 (no bytecode).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
T0=$SECONDS

STATE="$ROOT/.local/sam-local"
RUN="$STATE/run"
BUILD_DIR=.aws-sam/local/build
AWSLAMBDARIC_VERSION=4.2.2
STANDIN_KEY="trixie-awslambdaric-$AWSLAMBDARIC_VERSION-v1"   # change it to rebuild the cached stand-in
PY=.venv/bin/python

log() { echo "sam_local: $*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}
elapsed() { echo "$((SECONDS - T0)) s"; }
setup() { "$PY" -m crm_dev.sam_local_setup "$@"; }

# ---- teardown: only what this run started, by PID ----------------------------------------------------------------
SAM_PID="" SERVE_PID="" SOCAT_PID="" DOCKERD_PID="" FG_PID="" CREATED_DOCKER0=0 CONTAINERS_BEFORE="" IMAGES_BEFORE=""
LAYER_CACHE=""

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

stop_pid() { # PID [seconds before SIGKILL]
  local pid="$1" grace="${2:-15}" i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 5; i++)); do
    alive "$pid" || break
    sleep 0.2
  done
  if alive "$pid"; then
    log "PID $pid did not stop on SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

samcli_images() { docker images -q --no-trunc --filter 'reference=samcli/*' 2>/dev/null | sort -u | tr '\n' ' '; }

remove_new_images() { # SAM's emulator images (base + emulator + layer) made during this run
  local id
  [ -n "${DOCKER_READY:-}" ] || return 0
  for id in $(samcli_images); do
    case " $IMAGES_BEFORE " in *" $id "*) continue ;; esac
    docker rmi -f "$id" >/dev/null 2>&1 || true
  done
}

remove_new_containers() { # the containers SAM created during this run (it normally removes them itself)
  local id
  [ -n "${DOCKER_READY:-}" ] || return 0
  for id in $(docker ps -aq --no-trunc 2>/dev/null); do
    case " $CONTAINERS_BEFORE " in *" $id "*) continue ;; esac
    docker rm -f "$id" >/dev/null 2>&1 || true
  done
}

# A long step runs in the background and is waited for: a signal then reaches the trap at once (bash runs a trap
# only after the foreground command ends).
run() {
  local status=0
  "$@" &
  FG_PID=$!
  wait "$FG_PID" || status=$?
  FG_PID=""
  return "$status"
}

exec 7>&1 8>&2 # the script's own stdout and stderr, for the trap (a signal may arrive inside a redirected step)
cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  exec 1>&7 2>&8
  stop_pid "$FG_PID" 10
  stop_pid "$SAM_PID" 30
  remove_new_containers
  remove_new_images
  rm -rf "$LAYER_CACHE"
  stop_pid "$SERVE_PID" 15
  stop_pid "$SOCAT_PID" 5
  if [ -n "$DOCKERD_PID" ]; then
    docker image prune -f >/dev/null 2>&1 # untagged leftovers (private daemon only: all of them are ours)
    stop_pid "$DOCKERD_PID" 30
    # dockerd leaves its network-namespace mounts behind; and the docker0 link when this run created it.
    grep -o " $STATE/docker/[^ ]*" /proc/mounts | sort -r | while read -r mount; do umount "$mount" 2>/dev/null; done
    [ "$CREATED_DOCKER0" = 1 ] && ip link delete docker0 2>/dev/null
  fi
  if [ "$status" = 0 ] && [ "${SAM_LOCAL_KEEP_LOGS:-0}" != 1 ]; then rm -rf "$RUN"; fi
  [ "$status" = 0 ] || log "logs of this run: $RUN"
  log "done in $(elapsed) (exit $status)"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$STATE"
# One run at a time per checkout (they share the private dockerd's data, and docker0).
exec 9>"$STATE/lock"
flock -w 1800 9 || die "another scripts/sam_local.sh still runs after 30 minutes"
rm -rf "$RUN"
mkdir -p "$RUN"

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $* from Debian packages"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >"$RUN/apt.log" 2>&1 \
      || { cat "$RUN/apt.log" >&2; die "apt-get install $*"; }
  else
    die "missing $*: install it (apt-get install $*) or run as root"
  fi
}

scripts/bootstrap.sh
. scripts/sam_cli.sh
RUNTIME_VERSION="${SAM_RUNTIME#python}"                                   # 3.13
BASE_IMAGE="public.ecr.aws/lambda/python:$RUNTIME_VERSION-x86_64"          # the name SAM looks for
STANDIN_TAR="$STATE/standin-python$RUNTIME_VERSION-$STANDIN_KEY.tar"

# ---- 1. Docker ---------------------------------------------------------------------------------------------------
start_private_dockerd() {
  local dir="$STATE/docker" i
  missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v socat >/dev/null || missing+=(socat)
  [ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
  [ "$(id -u)" = 0 ] || die "no Docker daemon answers, and starting a private one needs root"
  mkdir -p "$dir/data" "$dir/exec"
  ip link show docker0 >/dev/null 2>&1 || CREATED_DOCKER0=1
  rm -f "$dir/dockerd.pid" "$dir/docker.sock"
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" -H "unix://$dir/docker.sock" \
    --storage-driver=overlay2 --iptables=false --ip6tables=false >"$RUN/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST="unix://$dir/docker.sock"
  for ((i = 0; i < 150; i++)); do
    docker info >/dev/null 2>&1 && return 0
    alive "$DOCKERD_PID" || break
    sleep 0.2
  done
  tail -20 "$RUN/dockerd.log" >&2
  die "the private dockerd did not start (log above)"
}

if docker info >/dev/null 2>&1; then
  log "Docker: the running daemon (${DOCKER_HOST:-default socket})"
  command -v socat >/dev/null || apt_install socat
else
  start_private_dockerd
  log "Docker: private dockerd $(dockerd --version | cut -d, -f1 | cut -d' ' -f3), PID $DOCKERD_PID ($(elapsed))"
fi
DOCKER_READY=1
CONTAINERS_BEFORE="$(docker ps -aq --no-trunc | tr '\n' ' ')"
IMAGES_BEFORE="$(samcli_images)"

# ---- 2. the base image -------------------------------------------------------------------------------------------
build_standin_tar() {
  local rootfs="$STATE/standin-rootfs"
  command -v debootstrap >/dev/null || apt_install debootstrap
  [ "$(id -u)" = 0 ] || die "building the stand-in base image (debootstrap) needs root"
  log "building the stand-in base image: Debian trixie + awslambdaric $AWSLAMBDARIC_VERSION (about 2 min, once)"
  rm -rf "$rootfs"
  run debootstrap --variant=minbase --include=python3,ca-certificates trixie "$rootfs" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$RUN/debootstrap.log" 2>&1 \
    || { tail -20 "$RUN/debootstrap.log" >&2; die "debootstrap trixie failed (log above)"; }
  [ -x "$rootfs/usr/bin/python$RUNTIME_VERSION" ] || die "trixie has no python$RUNTIME_VERSION (the template's runtime)"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc \
    "$rootfs"/usr/share/man "$rootfs"/usr/share/locale
  "$PY" -m pip install -qq --target "$rootfs/var/runtime" --python-version "$RUNTIME_VERSION" --implementation cp \
    --abi "cp${RUNTIME_VERSION/./}" --only-binary=:all: --platform manylinux2014_x86_64 \
    "awslambdaric==$AWSLAMBDARIC_VERSION" || die "pip could not fetch awslambdaric $AWSLAMBDARIC_VERSION"
  mkdir -p "$rootfs/var/task" "$rootfs/opt"
  cat >"$rootfs/var/runtime/bootstrap" <<EOF
#!/bin/sh
# The stand-in's runtime: the AWS Lambda runtime interface client on Debian's python$RUNTIME_VERSION.
export PYTHONPATH="/var/task:/opt/python/lib/python$RUNTIME_VERSION/site-packages:/opt/python:/var/runtime"
exec /usr/bin/python$RUNTIME_VERSION -m awslambdaric "\${_HANDLER:-\$AWS_LAMBDA_FUNCTION_HANDLER}"
EOF
  chmod 755 "$rootfs/var/runtime/bootstrap"
  tar -C "$rootfs" -cf "$STANDIN_TAR.tmp" . && mv "$STANDIN_TAR.tmp" "$STANDIN_TAR"
  rm -rf "$rootfs"
}

ensure_base_image() {
  local label
  if timeout 300 docker pull -q "$BASE_IMAGE" >"$RUN/pull.log" 2>&1; then
    BASE_KIND="official (pulled)"
    return 0
  fi
  log "cannot pull $BASE_IMAGE: $(tail -1 "$RUN/pull.log" | cut -c1-160)"
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    label="$(docker image inspect -f '{{index .Config.Labels "crm.sam-local.standin"}}' "$BASE_IMAGE" 2>/dev/null)"
    if [ -z "$label" ] || [ "$label" = "<no value>" ]; then
      BASE_KIND="official (pulled before)"
      return 0
    elif [ "$label" = "$STANDIN_KEY" ]; then
      BASE_KIND="stand-in (cached image)"
      return 0
    fi
  fi
  if [ -f "$STANDIN_TAR" ]; then
    BASE_KIND="stand-in (imported from the cached $(basename "$STANDIN_TAR"))"
  else
    build_standin_tar
    BASE_KIND="stand-in (built now)"
  fi
  docker import \
    -c "ENV LAMBDA_TASK_ROOT=/var/task" -c "ENV LAMBDA_RUNTIME_DIR=/var/runtime" -c "ENV LANG=C.UTF-8" \
    -c "WORKDIR /var/task" -c "LABEL crm.sam-local.standin=$STANDIN_KEY" \
    "$STANDIN_TAR" "$BASE_IMAGE" >/dev/null || die "docker import of the stand-in failed"
}
ensure_base_image
log "base image $BASE_IMAGE: $BASE_KIND, at $(elapsed)"

# ---- 3. build, database, emulated AWS ----------------------------------------------------------------------------
built_for_runtime() { # the layer's compiled dependency is the one for the template's runtime
  compgen -G "$1/CrmCoreLayer/python/pydantic_core/*cpython-${RUNTIME_VERSION/./}-x86_64*.so" >/dev/null
}
if [ -n "${SAM_LOCAL_FROM_BUILD:-}" ] && [ -f "$SAM_LOCAL_FROM_BUILD/template.yaml" ] \
  && built_for_runtime "$SAM_LOCAL_FROM_BUILD"; then
  # scripts/test.sh: the build scripts/sam_check.sh has just made from template.yaml (copied: this run adds bytecode)
  rm -rf "$BUILD_DIR" && mkdir -p "$(dirname "$BUILD_DIR")" && cp -a "$SAM_LOCAL_FROM_BUILD" "$BUILD_DIR"
  BUILT_BY="$SAM_LOCAL_FROM_BUILD (scripts/sam_check.sh)"
else
  "$SAM_RUNTIME" -c pass 2>/dev/null \
    || die "sam build needs $SAM_RUNTIME (the template's runtime) on this machine: install it (e.g. pyenv install 3.13)"
  run "$SAM" build --template template.yaml --base-dir . --build-dir "$BUILD_DIR" --parallel \
    --cached --cache-dir .aws-sam/local/cache >"$RUN/build.log" 2>&1 \
    || { tail -80 "$RUN/build.log" >&2; die "sam build failed (log above)"; }
  BUILT_BY="sam build"
fi
built_for_runtime "$BUILD_DIR" \
  || die "the built layer has no pydantic_core for $SAM_RUNTIME (was it built with another Python?)"
# Bytecode, compiled once here: otherwise every function's container compiles each module it imports on its cold
# start (SAM gives each function a fresh image). SAM_LOCAL_COMPILE=0 runs the build as `sam build` left it.
if [ "${SAM_LOCAL_COMPILE:-1}" = 1 ]; then
  "$SAM_RUNTIME" -m compileall -q -j 0 "$BUILD_DIR" >/dev/null || die "compileall of $BUILD_DIR failed"
fi
log "build: $BUILT_BY, for $SAM_RUNTIME ($(elapsed))"

# start-lambda gets the built layer by ARN from SAM's layer cache (a hard-linked copy): SAM then builds its emulator
# image once, not once per function as it does for a layer defined in the template (about 10 s each).
# `sam local invoke` runs the template as built. SAM_LOCAL_LAYER_IN_TEMPLATE=1 runs start-lambda on it too.
LAYER_CACHE="$STATE/layer-cache"
rm -rf "$LAYER_CACHE"
START_TEMPLATE="$BUILD_DIR/template.yaml"
if [ "${SAM_LOCAL_LAYER_IN_TEMPLATE:-0}" != 1 ]; then
  START_TEMPLATE="$(setup start-lambda-template --built "$BUILD_DIR/template.yaml" --layer-cache "$LAYER_CACHE" \
    --layer-arn "arn:aws:lambda:$AWS_REGION:000000000000:layer:crm-core-sam-local-$(date +%s)-$$:1")" \
    || die "cannot write the start-lambda template"
fi

functions="$(setup functions)" || die "function discovery failed"

. scripts/database.sh crm
db="$(setup database "${SAM_LOCAL_DATABASE:-crm_sam}")" || die "no database"
read -r DB_URL DB_HOST DB_PORT <<<"$db"

HOST_ADDRESS="${SAM_LOCAL_HOST_ADDRESS:-}"
[ -n "$HOST_ADDRESS" ] \
  || HOST_ADDRESS="$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)"
[ -n "$HOST_ADDRESS" ] \
  || HOST_ADDRESS="$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)"
[ -n "$HOST_ADDRESS" ] || die "cannot tell where containers reach this host (no docker0): set SAM_LOCAL_HOST_ADDRESS"

forward=()
case "$DB_HOST" in
  127.* | localhost | ::1)
    fwd_port="$(setup free-port "$HOST_ADDRESS")"
    socat "TCP-LISTEN:$fwd_port,bind=$HOST_ADDRESS,reuseaddr,fork" "TCP:$DB_HOST:$DB_PORT" 2>"$RUN/socat.log" &
    SOCAT_PID=$!
    forward=(--forward "$HOST_ADDRESS:$fwd_port")
    ;;
esac

"$PY" -m crm_dev.sam_local_setup serve --bind "$HOST_ADDRESS" --database-url "$DB_URL" "${forward[@]}" \
  --env-vars "$RUN/env-vars.json" --ready "$RUN/ready" >"$RUN/serve.log" 2>&1 &
SERVE_PID=$!
for ((i = 0; i < 600; i++)); do
  [ -s "$RUN/ready" ] && break
  alive "$SERVE_PID" || { cat "$RUN/serve.log" >&2; die "seeding the demo tenant or starting moto failed (log above)"; }
  sleep 0.2
done
[ -s "$RUN/ready" ] || die "the demo tenant was not seeded within 120 s ($RUN/serve.log)"
MOTO="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["moto"])' "$RUN/ready")"
log "demo tenant seeded in ${DB_URL##*/}; containers reach PostgreSQL at ${forward[1]:-$DB_HOST:$DB_PORT}," \
  "moto at $MOTO ($(elapsed))"

# ---- 4. start-lambda, the calls and the checks -------------------------------------------------------------------
# SAM passes its own credentials and region to the functions; the account lookup goes to moto (else it waits on STS).
# Host values of the overridden variables must not leak in: SAM ranks the shell's above the template's.
unset DATABASE_URL AWS_ENDPOINT_URL DB_SECRET_ARN AWS_PROFILE
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing AWS_ENDPOINT_URL_STS="$MOTO"
LAMBDA_PORT="$(setup free-port 127.0.0.1)"
"$SAM" local start-lambda --template "$START_TEMPLATE" --layer-cache-basedir "$LAYER_CACHE" \
  --host 127.0.0.1 --port "$LAMBDA_PORT" --warm-containers LAZY --skip-pull-image --env-vars "$RUN/env-vars.json" \
  ${SAM_LOCAL_DEBUG:+--debug} >"$RUN/start-lambda.log" 2>&1 &
SAM_PID=$!
for ((i = 0; i < 300; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$LAMBDA_PORT") 2>/dev/null && break
  alive "$SAM_PID" || { cat "$RUN/start-lambda.log" >&2; die "sam local start-lambda stopped (log above)"; }
  sleep 0.2
done
log "sam local start-lambda on 127.0.0.1:$LAMBDA_PORT ($(elapsed)); calling $(wc -l <<<"$functions") functions"

if ! run "$PY" -m crm_dev.sam_local_setup check --endpoint "http://127.0.0.1:$LAMBDA_PORT" --sam "$SAM" \
  --template "$BUILD_DIR/template.yaml" --env-vars "$RUN/env-vars.json" --invoke find_activities; then
  echo "---- sam local start-lambda log (last 60 lines) ----" >&2
  tail -60 "$RUN/start-lambda.log" >&2
  die "some functions failed under sam local (above)"
fi
echo "base image: $BASE_KIND; layer built for $SAM_RUNTIME"
