#!/usr/bin/env bash
# Installs what building and testing aptp needs on Debian 12, idempotently (safe to run every time).
set -euo pipefail

apt_packages=(libopenblas-dev libedit-dev libpng-dev libjpeg62-turbo-dev pkg-config)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || { echo "setup: the Swift toolchain (swift 6.x) must be on PATH" >&2; exit 1; }
