#!/usr/bin/env bash
# The one entry point: build | verify | publish | attach | test | bench.
# Sets up .venv from pinned requirements on first use, then hands over to Python.
set -euo pipefail

# Resolved, so that a link to this script elsewhere still finds the checkout.
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
VENV="$ROOT/.venv"
BENCH_VENV="$ROOT/.venv-bench"
# pip itself is pinned like everything else, so two venvs made from the same files match.
PIP_REQUIREMENT="pip==26.3"

usage() {
    cat <<'EOF'
usage: ./build_layer.sh [COMMAND] [ARGS...]
       ./build_layer.sh [BUILD OPTIONS...]    (the same as build)

commands:
  build              build dist/cached-clients-<version>.zip and its manifest (the default)
  verify [ZIP]       check a built zip's layout and import it under every local runtime
  publish ...        publish a new layer version where the zip changed (see publish --help)
  attach ...         attach a layer version to functions (see attach --help)
  test [PYTEST...]   run the whole test suite
  bench [ARGS...]    run the benchmarks beside their peers
  help               show this message

The first run creates .venv from requirements-dev.txt; it needs Python 3.11+
(python3, or set PYTHON=/path/to/python) and access to the package index.
EOF
}

find_python() {
    local candidate
    # A Python named on purpose is used or refused, never passed over in silence.
    if [[ -n "${PYTHON:-}" ]]; then
        if "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$PYTHON"
            return 0
        fi
        echo "build_layer.sh: PYTHON=$PYTHON is not a Python 3.11+; fix it or unset it" >&2
        return 1
    fi
    for candidate in python3 python3.13 python3.12 python3.11; do
        [[ -n "$candidate" ]] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "build_layer.sh: no Python 3.11+ found; install one or set PYTHON=/path/to/python" >&2
    return 1
}

# (Re)create a venv whenever the files it was installed from change.
ensure_venv() {
    local venv="$1"
    shift
    local stamp="$venv/.installed-from"
    local wanted
    wanted="$({ echo "$PIP_REQUIREMENT"; cat "$@"; } | sha256sum | cut -d' ' -f1)"
    if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
        return 0
    fi

    local python
    python="$(find_python)"
    echo "build_layer.sh: setting up $(basename "$venv") with $("$python" -V)" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet "$PIP_REQUIREMENT" >&2
    local requirement
    for requirement in "$@"; do
        case "$requirement" in
            *.txt) "$venv/bin/python" -m pip install --quiet -r "$requirement" >&2 ;;
        esac
    done
    "$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e "$ROOT" >&2
    echo "$wanted" >"$stamp"
}

main() {
    local command="${1:-build}"
    # An option first (./build_layer.sh --output-dir DIR) is the default command's option.
    case "$command" in
        -h | --help) ;;
        -*) command=build && set -- build "$@" ;;
    esac
    [[ $# -gt 0 ]] && shift

    case "$command" in
        help | -h | --help)
            usage
            ;;
        build | verify | publish | attach)
            ensure_venv "$VENV" "$ROOT/requirements-dev.txt" "$ROOT/pyproject.toml"
            # Stay in the caller's directory, so that a relative --zip, --output-dir or ZIP
            # means what the caller typed; -P keeps that directory off sys.path, and
            # PYTHONPATH finds the tooling package in the checkout instead.
            PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$VENV/bin/python" -P -m layer \
                "$command" "$@"
            ;;
        test)
            ensure_venv "$VENV" "$ROOT/requirements-dev.txt" "$ROOT/pyproject.toml"
            cd "$ROOT"
            "$VENV/bin/python" -m ruff check .
            "$VENV/bin/python" -m ruff format --check .
            exec "$VENV/bin/python" -m pytest "$@"
            ;;
        bench)
            ensure_venv "$BENCH_VENV" "$ROOT/requirements-dev.txt" "$ROOT/bench/requirements.txt" \
                "$ROOT/pyproject.toml"
            cd "$ROOT"
            exec "$BENCH_VENV/bin/python" -m bench "$@"
            ;;
        *)
            echo "build_layer.sh: unknown command '$command'; run ./build_layer.sh help" >&2
            exit 2
            ;;
    esac
}

main "$@"
