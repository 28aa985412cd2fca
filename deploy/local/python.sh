# shellcheck shell=bash
# What install-nats.sh and install-lxml.sh share: finding a Python 3, and its pip to install with.

# Prints the first of python3, python that is Python 3; fails, printing nothing, when neither is.
tatrack_python3() {
    local p
    for p in python3 python; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info[0] < 3)' 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Succeeds when `$1 -m pip` runs; otherwise says what is missing ($2), that pip could have
# installed it ($3: "it", "one") and the other way out ($4), and fails.
tatrack_pip_or_explain() {
    local py="$1" missing="$2" it="$3" alternative="$4"
    if "$py" -m pip --version >/dev/null 2>&1; then
        return 0
    fi
    echo "error: $missing and '$py -m pip' is not available to install $it." >&2
    echo "       Install pip (e.g. 'apt-get install python3-pip' or '$py -m ensurepip')," >&2
    echo "       or $alternative." >&2
    return 1
}
