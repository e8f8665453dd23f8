#!/usr/bin/env bash
# A local Label Studio for development and the integration tests, in its own virtual env.
#
#   scripts/label_studio.sh install                      # LS_VENV (default .ls-venv), ~1 GB, ~5 min
#   scripts/label_studio.sh start DATA_DIR PORT DOCUMENT_ROOT
#   scripts/label_studio.sh stop DATA_DIR
#
# install also migrates an empty database once (LS_VENV/alod-template), which start copies into
# a new DATA_DIR: a start then takes seconds instead of minutes. start runs Label Studio on
# 127.0.0.1:PORT with everything under DATA_DIR (database, log, a scratch HOME), serves local
# files below DOCUMENT_ROOT and returns once the API answers. The first user and its API token
# come from LABEL_STUDIO_USERNAME, LABEL_STUDIO_PASSWORD and LABEL_STUDIO_USER_TOKEN.
set -euo pipefail

LS_VERSION="${LS_VERSION:-1.23.2}"
LS_VENV="${LS_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.ls-venv}"
TEMPLATE="$LS_VENV/alod-template"
DATABASE="label_studio.sqlite3"

usage() { sed -n '2,12p' "$0" >&2; exit 2; }

install() {
    if ! "$LS_VENV/bin/python" -c "import importlib.metadata as m; assert m.version('label-studio') == '$LS_VERSION'" 2>/dev/null; then
        python3 -m venv "$LS_VENV"
        "$LS_VENV/bin/python" -m pip install --quiet "label-studio==$LS_VERSION"
        rm -rf "$TEMPLATE"
    fi
    [ -f "$TEMPLATE/$DATABASE" ] || make_template
}

make_template() {
    local scratch="$TEMPLATE.partial" port
    port="$("$LS_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    rm -rf "$scratch"
    (unset LABEL_STUDIO_USERNAME LABEL_STUDIO_PASSWORD LABEL_STUDIO_USER_TOKEN; launch "$scratch" "$port" "$scratch")
    stop "$scratch"
    mkdir -p "$TEMPLATE"
    mv "$scratch/$DATABASE" "$TEMPLATE/$DATABASE"
    rm -rf "$scratch"
}

start() {
    local data_dir="$1"
    [ -x "$LS_VENV/bin/label-studio" ] || { echo "Label Studio is not installed: run '$0 install'" >&2; exit 1; }
    : "${LABEL_STUDIO_USERNAME:?}" "${LABEL_STUDIO_PASSWORD:?}" "${LABEL_STUDIO_USER_TOKEN:?}"
    mkdir -p "$data_dir"
    if [ ! -f "$data_dir/$DATABASE" ] && [ -f "$TEMPLATE/$DATABASE" ]; then
        cp "$TEMPLATE/$DATABASE" "$data_dir/$DATABASE"
    fi
    launch "$@"
}

launch() {
    local data_dir="$1" port="$2" root="$3"
    mkdir -p "$data_dir/home"
    HOME="$data_dir/home" \
    LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
    LOCAL_FILES_SERVING_ENABLED=true \
    LOCAL_FILES_DOCUMENT_ROOT="$root" \
    LATEST_VERSION_CHECK=false \
    COLLECT_ANALYTICS=false \
    "$LS_VENV/bin/label-studio" start --no-browser --internal-host 127.0.0.1 \
        --port "$port" --data-dir "$data_dir" >>"$data_dir/label-studio.log" 2>&1 </dev/null &
    echo $! >"$data_dir/label-studio.pid"
    for _ in $(seq 1 300); do
        if "$LS_VENV/bin/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/api/version', timeout=2)" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$(cat "$data_dir/label-studio.pid")" 2>/dev/null; then
            echo "Label Studio exited; the end of its log:" >&2
            tail -n 30 "$data_dir/label-studio.log" >&2
            exit 1
        fi
        sleep 1
    done
    echo "Label Studio did not answer within 300 s; see $data_dir/label-studio.log" >&2
    stop "$data_dir"
    exit 1
}

stop() {
    local pid_file="$1/label-studio.pid" pid
    [ -f "$pid_file" ] || return 0
    pid="$(cat "$pid_file")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; return 0; }
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pid_file"
}

case "${1:-}" in
    install) install ;;
    start) [ $# -eq 4 ] || usage; start "$2" "$3" "$4" ;;
    stop) [ $# -eq 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
