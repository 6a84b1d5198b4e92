#!/usr/bin/env bash
# Install the Debian packages rewind needs, only those that are missing.
# Contract: exits 0 when every package is present afterwards; uses sudo when not root.
set -euo pipefail
pkgs=(gcc g++ libc6-dev libdw-dev libelf-dev libreadline-dev libcapstone-dev libffi-dev
      libcriterion-dev meson ninja-build pkg-config gdb strace python3 make)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "rewind: installing missing Debian packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "rewind: apt-get update failed; trying the install anyway" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
