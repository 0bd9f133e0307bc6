#!/usr/bin/env bash
# Screenshots a rendered report with headless Chromium, to check how the page looks without a desktop.
# Usage: scripts/render_report.sh DIR [PNG] [WIDTHxHEIGHT]
#   DIR           a folder written by `neuroemu report ... -o DIR` (holds report.html)
#   PNG           the screenshot (default: DIR/report.png)
#   WIDTHxHEIGHT  the window, which is what gets captured (default: 1280x7000, about a whole page)
# Needs Debian's `chromium` (scripts/setup.sh installs it).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  sed -n '3,7p' "$0" >&2
  exit 2
fi
dir="$1"
png="${2:-$dir/report.png}"
size="${3:-1280x7000}"
if [ ! -f "$dir/report.html" ]; then
  echo "render_report: no report.html in $dir" >&2
  exit 1
fi
if ! command -v chromium >/dev/null; then
  echo "render_report: chromium is not installed (apt-get install --no-install-recommends chromium)" >&2
  exit 1
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
html="$(cd "$dir" && pwd)/report.html"
case "$png" in /*) ;; *) png="$(pwd)/$png" ;; esac
# --no-sandbox: Chromium refuses to run as root otherwise (containers, CI); the page is our own local file.
timeout 120 chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir="$profile" \
  --screenshot="$png" --window-size="${size/x/,}" "file://$html" >"$profile/chromium.log" 2>&1 || {
  echo "render_report: chromium failed:" >&2
  cat "$profile/chromium.log" >&2
  exit 1
}
echo "$png"
