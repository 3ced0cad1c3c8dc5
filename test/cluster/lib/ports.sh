# Sourced by cluster.sh: picks the ports a cluster listens on.
#
# A port given in the environment is used as is. Otherwise a random port in 20000-31999 that no TCP socket uses (in
# the control plane's netns) is taken: that range is below Linux's ephemeral range (32768+), so outgoing connections
# and port-0 listeners of other tests do not race for it, and two clusters on one machine get different ports.

port_free() {
  local p=$1 taken
  for taken in "${PICKED_PORTS[@]}"; do [ "$taken" = "$p" ] && return 1; done
  [ -z "$(in_netns ss -Htan "sport = :$p")" ]
}

# pick_port VAR GIVEN: sets VAR to GIVEN if that is set, else to a free port. It assigns instead of printing so that
# it runs in this shell, not a $(...) subshell, and PICKED_PORTS remembers every port chosen during this start.
pick_port() {
  local var=$1 p i
  if [ -n "${2:-}" ]; then PICKED_PORTS+=("$2"); printf -v "$var" '%s' "$2"; return; fi
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    if port_free "$p"; then PICKED_PORTS+=("$p"); printf -v "$var" '%s' "$p"; return; fi
  done
  die "found no free port in 20000-31999"
}
