#!/usr/bin/env bash
# Run the Platform API load suite with pytest-loadtest. The exit code is the test outcome (pytest's exit code).
set -uo pipefail

usage() {
    cat <<'TEXT'
Usage: scripts/run_load_tests.sh [options] [-- extra pytest args]

Runs the load suite under loadtests/ (pytest -m load loadtests). Without --host the suite starts the
reference Platform API itself on 127.0.0.1.

Options:
  --host URL          target base URL (default: start the reference API on loopback)
  --users-max N       simulated users (--load-users)
  --spawn-rate R      users started per second (--load-spawn-rate)
  --duration D        duration per scenario, e.g. 60s, 5m (--load-duration)
  --profile NAME      load profile from loadtests/profiles.toml: smoke, steady, peak, stress, spike, soak
                      (default: $LOAD_PROFILE, else smoke)
  --scenarios WHICH   all, auth, generation, payments or mixed (default: all)
  --report-dir DIR    where reports and junit.xml go (default: load_test_reports)
  -h, --help          this help

Examples:
  scripts/run_load_tests.sh
  scripts/run_load_tests.sh --profile steady --users-max 200 --duration 120s
  scripts/run_load_tests.sh --host http://127.0.0.1:8000 --scenarios auth
TEXT
}

fail() { echo "run_load_tests.sh: $*" >&2; exit 2; }

host="" users="" spawn_rate="" duration="" profile="${LOAD_PROFILE:-smoke}" scenarios="all" report_dir="load_test_reports"
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --host) [ $# -ge 2 ] || fail "--host needs a URL"; host="$2"; shift 2 ;;
        --users-max) [ $# -ge 2 ] || fail "--users-max needs a number"; users="$2"; shift 2 ;;
        --spawn-rate) [ $# -ge 2 ] || fail "--spawn-rate needs a number"; spawn_rate="$2"; shift 2 ;;
        --duration) [ $# -ge 2 ] || fail "--duration needs a value such as 60s"; duration="$2"; shift 2 ;;
        --profile) [ $# -ge 2 ] || fail "--profile needs a name"; profile="$2"; shift 2 ;;
        --scenarios) [ $# -ge 2 ] || fail "--scenarios needs a value"; scenarios="$2"; shift 2 ;;
        --report-dir) [ $# -ge 2 ] || fail "--report-dir needs a directory"; report_dir="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; extra+=("$@"); break ;;
        *) fail "unknown option: $1 (see --help)" ;;
    esac
done

cd "$(dirname "$0")/.." || fail "cannot enter the project directory"
python="${PYTHON:-}"
if [ -z "$python" ]; then
    if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
fi

# Pre-flight: dependencies present.
"$python" -c "import pytest_loadtest.plugin, locust, faker, jwt, requests, dotenv" 2>/dev/null \
    || fail "dependencies missing for $python: run 'make install' (or pip install -e '.[suite]')"

# Pre-flight: the target answers.
if [ -n "$host" ]; then
    "$python" - "$host" <<'PY' || fail "target $host is not reachable (GET /health failed); is it running?"
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1].rstrip("/") + "/health", timeout=5) as response:
    sys.exit(0 if response.status < 500 else 1)
PY
fi

case "$scenarios" in
    all) selection=() ;;
    auth|generation|payments|mixed) selection=(-k "$scenarios") ;;
    *) fail "--scenarios must be all, auth, generation, payments or mixed, not '$scenarios'" ;;
esac

args=(-m load loadtests --load-profile "$profile" --junitxml "$report_dir/junit.xml" --load-report-dir "$report_dir")
[ -n "$host" ] && args+=(--load-host "$host")
[ -n "$users" ] && args+=(--load-users "$users")
[ -n "$spawn_rate" ] && args+=(--load-spawn-rate "$spawn_rate")
[ -n "$duration" ] && args+=(--load-duration "$duration")

echo "+ $python -m pytest ${args[*]} ${selection[*]} ${extra[*]}"
"$python" -m pytest "${args[@]}" "${selection[@]}" "${extra[@]}"
