#!/bin/sh
# The system programs `make test` needs besides Python, checked before the suite runs (make test calls this first).
# As root with apt-get at hand, a missing one is installed; anywhere else the script stops with one line saying
# which package to install and why. Each entry: the commands that satisfy it, the Debian package, what needs it.
set -eu

missing() {  # missing "cmd1 cmd2 ...": true when none of the commands is on PATH
    for command in $1; do
        if command -v "$command" >/dev/null 2>&1; then
            return 1
        fi
    done
    return 0
}

require() {  # require "commands" package "why"
    if ! missing "$1"; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "make test: installing $2 ($3)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
        return 0
    fi
    echo "make test needs $2 ($3): install it (sudo apt-get install $2) and run make test again" >&2
    exit 1
}

if [ "$(uname -s)" != Linux ]; then
    exit 0  # the report page is checked in Chromium on Linux only (the test says so elsewhere)
fi

require "chromium chromium-browser google-chrome" chromium \
    "tests/sessions/test_reports_session.py checks the report page index.html in a real headless browser"

if [ "$(id -u)" = 0 ]; then  # only root can make network namespaces; elsewhere those tests skip, saying why
    require ip iproute2 \
        "as root, tests/sessions/test_remote_workers.py and test_guard_proxies.py run hosts in network namespaces"
fi
