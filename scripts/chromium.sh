#!/usr/bin/env bash
# Called by scripts/test.sh: make sure Debian's chromium and chromium-driver are installed for
# the real-browser tests of the admin console (tests/browser.py, tests/e2e/test_*browser*.py).
# Installs them when running as root (as CI does) and prints the chromedriver path. Fails with
# a notice when they are missing and cannot be installed: the browser tests then skip, unless
# KEXIE_TEST_REQUIRE_BROWSER is set.
set -uo pipefail

have_browser() {
  { command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; } &&
    { command -v chromedriver >/dev/null || [ -x /usr/bin/chromedriver ]; }
}

if ! have_browser; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver (Debian packages) for the browser tests" >&2
    start=$(date +%s)
    if ! { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver >/dev/null; }; then
      echo "notice: could not install chromium; the browser tests are skipped" >&2
      exit 1
    fi
    echo "chromium installed in $(( $(date +%s) - start )) s" >&2
  fi
fi
if ! have_browser; then
  echo "notice: chromium not available (not root); the browser tests are skipped" >&2
  exit 1
fi
command -v chromedriver 2>/dev/null || echo /usr/bin/chromedriver
