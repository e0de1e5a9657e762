#!/usr/bin/env bash
# Called by scripts/test.sh: make sure nginx (Debian's package) is installed for the webhook
# acceptance test (tests/e2e/test_webhook_cluster.py), which starts its own nginx on loopback
# with a throwaway configuration. Prints the binary's path; fails without root when missing
# (the test then skips with a notice).
set -euo pipefail
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing nginx (Debian package) for the tests" >&2
    apt-get update -qq
    # The package's own service is never started: the test runs nginx itself.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
  fi
fi
command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }
