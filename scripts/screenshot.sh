#!/usr/bin/env bash
# Regenerates docs/screenshot.png: the app on the bundled sample, in a real X window on a
# virtual screen (Debian: apt install xvfb), as a first start (own settings folder).
set -euo pipefail
cd "$(dirname "$0")/.."
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
XDG_CONFIG_HOME="$config" QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1440x900x24" \
  .venv/bin/fervision gui assets/sample_pexels.mp4 --device cpu \
  --screenshot docs/screenshot.png --screenshot-after "${FRAMES:-240}"
echo "wrote docs/screenshot.png"
