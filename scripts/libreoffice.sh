#!/usr/bin/env bash
# Make LibreOffice (headless Calc) and a CJK font available for the PDF render test of the
# exports (tests/e2e/test_export_render.py), with Carlito (Calibri's metrics: column widths come
# out as in Excel and WPS) and pdftoppm (PNG pictures of the rendered forms, tests/output/forms/). Run by scripts/test.sh; installs Debian packages when
# running as root (as CI does) and prints the soffice path. Exits non-zero, with a notice, when
# LibreOffice is missing and cannot be installed: the render test then skips itself.
set -uo pipefail

find_soffice() {
  command -v soffice 2>/dev/null || command -v libreoffice 2>/dev/null ||
    { [ -x /usr/lib/libreoffice/program/soffice ] && echo /usr/lib/libreoffice/program/soffice; }
}

soffice=$(find_soffice)
if [ -z "$soffice" ] || ! fc-list :lang=zh 2>/dev/null | grep -q . ||
  ! fc-list 2>/dev/null | grep -qi carlito || ! command -v pdftoppm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing LibreOffice Calc (headless) and a CJK font for the export render test" >&2
    start=$(date +%s)
    if ! { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libreoffice-calc-nogui fonts-wqy-zenhei fonts-crosextra-carlito poppler-utils \
        >/dev/null; }; then
      echo "notice: could not install LibreOffice; the export render test is skipped" >&2
      exit 1
    fi
    echo "LibreOffice installed in $(( $(date +%s) - start )) s" >&2
    soffice=$(find_soffice)
  fi
fi
if [ -z "$soffice" ]; then
  echo "notice: LibreOffice not available (not root); the export render test is skipped" >&2
  exit 1
fi
echo "$soffice"
