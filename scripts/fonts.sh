#!/usr/bin/env bash
# A CJK font for the charts (scheduler/charts.py: /status and the annual countdown): the font
# test checks it covers every Chinese label. Run by scripts/test.sh; installs Debian's
# fonts-wqy-zenhei when running as root (as CI does). `make run` does not need it: without a
# CJK font the charts are drawn anyway, with a logged warning, and the font test skips itself.
set -uo pipefail

if fc-list :lang=zh 2>/dev/null | grep -q .; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing a CJK font (fonts-wqy-zenhei) for the charts" >&2
  if apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      fonts-wqy-zenhei fontconfig >/dev/null; then
    exit 0
  fi
fi
echo "notice: no CJK font (not root, or apt-get failed); the chart font test is skipped" >&2
exit 1
