#!/usr/bin/env bash
# Installs every Debian package smimp needs to build, test, fuzz and run its
# demo. Idempotent: packages already present are not touched, and apt-get
# runs only when something is missing. Runs as root, or through sudo.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	clang libclang-rt-14-dev          # libFuzzer targets
	libsodium-dev libjansson-dev
	libmicrohttpd-dev libgnutls28-dev gnutls-bin
	libcurl4-gnutls-dev
	libsqlite3-dev sqlite3
	libpq-dev postgresql
	openssl curl ca-certificates      # test CA and integration checks
	procps                            # ps/pkill in the test scripts
	systemd                           # systemd-analyze checks the unit
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
