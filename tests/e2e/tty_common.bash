# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2154 # $T and $SOCK come from helpers.bash
# Terminal helpers for interactive.bats (issue 5): a private tmux server per test (its socket in
# $T), sessions running an interactive bash whose functions D and B are the docker CLI and the
# berth CLI against the test's daemon. Load after helpers and ctr_common; call tm_teardown from
# teardown() before ctr_teardown.

# tm ARGS...: tmux on the test's private server.
tm() {
    tmux -S "$T/tmux.sock" "$@"
}

# tm_start NAME [COLS] [ROWS]: a detached session NAME (default 120x40) running bash with the
# prompt '$ ', D = docker, B = berth, both against $SOCK.
tm_start() {
    local name="$1" cols="${2:-120}" rows="${3:-40}"
    cat >"$T/bashrc" <<EOF
PS1='\$ '
unset HISTFILE PROMPT_COMMAND
export DOCKER_CONFIG='$T/docker-config' TERM=xterm
D() { docker -H 'unix://$SOCK' "\$@"; }
B() { '$BERTH' -H 'unix://$SOCK' "\$@"; }
EOF
    tm new-session -d -s "$name" -x "$cols" -y "$rows" "bash --noprofile --rcfile '$T/bashrc' -i"
    tm set-option -t "$name" history-limit 5000 >/dev/null
    tm_wait "$name" '^\$ $' 10
}

# tm_type NAME TEXT: type TEXT literally, then Enter.
tm_type() {
    tm send-keys -t "$1" -l "$2"
    tm send-keys -t "$1" Enter
}

# tm_keys NAME KEYS...: tmux key names (C-c, C-p, BSpace, Enter...).
tm_keys() {
    local name="$1"
    shift
    tm send-keys -t "$name" "$@"
}

# tm_screen NAME: the pane's text, scrollback included, wrapped lines joined.
tm_screen() {
    tm capture-pane -p -J -t "$1" -S -5000 2>/dev/null
}

# tm_wait NAME ERE [SECONDS]: wait until a line of the pane matches ERE.
tm_wait() {
    local name="$1" pat="$2" secs="${3:-15}" i
    for ((i = 0; i < secs * 10; i++)); do
        if tm_screen "$name" | grep -qE -- "$pat"; then
            return 0
        fi
        sleep 0.1
    done
    echo "timed out waiting for /$pat/ in tmux session $name; the pane:" >&2
    tm_screen "$name" | grep -v '^$' | tail -n 30 >&2
    return 1
}

# tm_count NAME ERE: how many lines of the pane match ERE.
tm_count() {
    tm_screen "$1" | grep -cE -- "$2" || true
}

# tm_teardown: stop the test's tmux server (and with it every session's processes).
tm_teardown() {
    if [[ -n "${T:-}" && -S "$T/tmux.sock" ]]; then
        tm kill-server 2>/dev/null || true
    fi
}
