#!/usr/bin/env bash
# System packages the project needs: CJK fonts (rendering synthetic reports), Pango (WeasyPrint),
# Chromium (the reviewer page's browser test, driven by Playwright) and libGL (the full
# opencv-python that Augraphy, the bench's second scan simulator, installs beside the headless one).
# Installs them with apt-get when run as root on Debian/Ubuntu; otherwise says what is missing.
set -euo pipefail

packages=(fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-uming fonts-arphic-ukai
          libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 chromium libgl1 libglib2.0-0)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "note: not root; missing system packages: ${missing[*]}" >&2
  echo "      fonts: the synthetic renderer falls back to fonts it can find (fc-list :lang=zh)." >&2
fi
