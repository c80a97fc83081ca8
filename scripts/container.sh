#!/usr/bin/env bash
# Builds Lectern's container image here — no registry needed — and proves it
# runs: podman + runc from Debian apt, the host-built static binary on a
# FROM-scratch base (deploy/container/Containerfile), deploy/container/
# containers.conf (runc, cgroupfs, explicit ulimits), --pull=never --network host.
#
# Usage: scripts/container.sh [install|build|smoke|all]   (default all)
#   install  apt-get install podman runc when missing (as root)
#   build    CGO_ENABLED=0 build → image localhost/lectern:ci
#   smoke    check the image's `lectern --version` names this checkout's commit,
#            seed a volume, start the image, GET /api/health, a seeded list and
#            the site, run its HEALTHCHECK, check it runs as UID 10001, stop it
#            (SIGTERM, exit 0) and remove container and volume
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
export CONTAINERS_CONF=$root/deploy/container/containers.conf
image=localhost/lectern:ci
what=${1:-all}

install() {
	if command -v podman >/dev/null && command -v runc >/dev/null; then
		echo "podman: $(podman --version), runc: $(runc --version | head -1)"
		return
	fi
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
		echo "podman and runc are needed: apt-get install podman runc (as root)" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc
}

build() {
	# the binary `make build` makes (the e2e suites use the same one)
	make --no-print-directory build
	# a FROM-scratch image has no loader: the binary must be static
	if ldd "$root/lectern" >/dev/null 2>&1; then
		echo "lectern is dynamically linked: build it with CGO_ENABLED=0" >&2
		return 1
	fi
	local ctx
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' RETURN
	mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/tmp" "$ctx/data/pb_data"
	cp "$root/lectern" "$ctx/rootfs/usr/local/bin/lectern"
	cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"
	printf 'root:x:0:0:root:/:/sbin/nologin\nlectern:x:10001:10001:Lectern:/pb_data:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
	printf 'root:x:0:\nlectern:x:10001:\n' >"$ctx/rootfs/etc/group"
	chmod 1777 "$ctx/rootfs/tmp"
	cp deploy/container/Containerfile "$ctx/"
	# --format docker: the OCI format has no HEALTHCHECK
	podman build --pull=never --network host --format docker -t "$image" -f "$ctx/Containerfile" "$ctx"
	podman image inspect "$image" --format 'image {{.Id}}: {{.Size}} bytes, user {{.Config.User}}, healthcheck {{.Config.Healthcheck.Test}}'
}

smoke() {
	local name=lectern-smoke-$$ vol=lectern-smoke-$$ port
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cleanup() {
		podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
		podman volume rm -f "$vol" >/dev/null 2>&1 || true
	}
	trap cleanup RETURN
	# the binary is stamped (make build): an operator can tell what runs
	local version commit
	version=$(podman run --rm --pull=never --network host --no-healthcheck "$image" --version)
	echo "$version"
	commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
	if [[ -n $commit && $version != *"commit $commit"* ]]; then
		echo "the image's lectern --version does not name commit $commit" >&2
		return 1
	fi
	podman volume create "$vol" >/dev/null
	# demo data into the volume, by the image's own binary (as UID 10001)
	podman run --rm --pull=never --network host --no-healthcheck -v "$vol:/pb_data" "$image" \
		seed --dir /pb_data --posts 30 --comments 60 --courses 5 --users 20 --enrollments 20 --reviews 10 | tail -n 3
	# no systemd here to time the HEALTHCHECK: it is run once by hand below
	podman run -d --name "$name" --pull=never --network host -v "$vol:/pb_data" --health-interval=disable \
		-e LECTERN_ORIGINS=https://lectern.example -e LECTERN_HEALTHCHECK_URL="http://127.0.0.1:$port/api/health" "$image" \
		serve --http="127.0.0.1:$port" --dir=/pb_data --dev=false >/dev/null
	local base=http://127.0.0.1:$port deadline=$((SECONDS + 60))
	until curl -fsS --noproxy '*' -o /dev/null "$base/api/health" 2>/dev/null; do
		if ((SECONDS > deadline)) || [[ $(podman inspect -f '{{.State.Running}}' "$name") != true ]]; then
			echo "the container did not become healthy:" >&2
			podman logs "$name" >&2 || true
			return 1
		fi
		sleep 0.2
	done
	echo "GET /api/health: $(curl -fsS --noproxy '*' "$base/api/health")"
	local posts
	posts=$(curl -fsS --noproxy '*' "$base/api/collections/posts/records?perPage=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["totalItems"])')
	echo "GET /api/collections/posts/records: $posts published posts"
	((posts > 0)) || { echo "the seeded list is empty" >&2; return 1; }
	curl -fsS --noproxy '*' "$base/" | grep -q '<html' || { echo "GET / did not serve the site" >&2; return 1; }
	echo "GET /: the site"
	local origin
	origin=$(curl -sS --noproxy '*' -o /dev/null -D - -H 'Origin: https://evil.example' "$base/api/health" | tr -d '\r' | grep -i '^access-control-allow-origin:' || true)
	[[ -z $origin ]] || { echo "LECTERN_ORIGINS ignored: $origin" >&2; return 1; }
	if ! podman healthcheck run "$name"; then
		echo "the image's HEALTHCHECK failed" >&2
		return 1
	fi
	echo "HEALTHCHECK: healthy"
	local pid uid
	pid=$(podman inspect -f '{{.State.Pid}}' "$name")
	uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
	echo "server process uid: $uid"
	[[ $uid == 10001 ]] || { echo "the server runs as uid $uid, want 10001" >&2; return 1; }
	podman stop -t 15 "$name" >/dev/null
	local code
	code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
	echo "stopped (SIGTERM): exit $code"
	[[ $code == 0 ]] || { podman logs "$name" | tail -n 20 >&2; return 1; }
}

case "$what" in
install) install ;;
build) build ;;
smoke) smoke ;;
all) install && build && smoke ;;
*)
	echo "usage: $0 [install|build|smoke|all]" >&2
	exit 2
	;;
esac
