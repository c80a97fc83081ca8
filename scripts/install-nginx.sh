#!/usr/bin/env bash
# Installs Debian's nginx (nginx-light) for the reverse-proxy test
# (reliability TestNginxProxy, deploy/nginx/lectern.conf) when it is missing.
# Called by scripts/test.sh; safe to run again. Prints the nginx binary's path.
set -euo pipefail
if command -v nginx >/dev/null 2>&1; then
	command -v nginx
	exit 0
fi
for p in /usr/sbin/nginx /usr/local/sbin/nginx; do
	if [[ -x $p ]]; then
		echo "$p"
		exit 0
	fi
done
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
	echo "nginx is missing: install it (sudo apt-get install -y nginx-light) or set LECTERN_NGINX" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# wait for another apt run rather than fail on its lock
apt-get -o DPkg::Lock::Timeout=600 update -q >&2
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends nginx-light >&2
command -v nginx || echo /usr/sbin/nginx
