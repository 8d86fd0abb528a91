#!/usr/bin/env bash
# Debian packages the tests need: Chromium for browser tests, CJK fonts and Pango for
# WeasyPrint, poppler-utils to read PDFs back, gettext for message catalogues, and the real
# Prometheus and Alertmanager the monitoring tests start (their services are not needed).
# Installs what is missing when run as root; otherwise says what to install.
set -euo pipefail
packages=(chromium fonts-noto-cjk poppler-utils gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig
  prometheus prometheus-alertmanager)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
