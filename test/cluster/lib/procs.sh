# Sourced by cluster.sh: starting, finding and stopping the processes a cluster runs, by recorded pid only.
#
# $RUN_DIR/pids has one line per process: "<component> <pid> <start time>". The start time (field 22 of
# /proc/<pid>/stat, in clock ticks since boot) makes a record unambiguous: a pid that the kernel has since reused for
# another process has another start time, so stop never signals a process this script did not start.

proc_starttime() { # prints the start time of pid $1; fails if there is no such process or it is a zombie
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }            # drop "pid (comm) ", comm may contain spaces and parentheses
  set -- $stat
  # A zombie has exited and only waits for its parent to reap it; it counts as stopped. (Our daemons outlive this
  # script, so their parent becomes init, which reaps them; a parent that does not would otherwise hang stop.)
  [ "$1" != Z ] || return 1
  echo "${20}"                 # field 22 of the whole line
}

proc_alive() { # proc_alive PID STARTTIME
  [ "$(proc_starttime "$1" 2>/dev/null)" = "$2" ]
}

record_of() { # prints "pid starttime" of component $1, or nothing
  [ -f "$RUN_DIR/pids" ] && awk -v c="$1" '$1 == c { print $2, $3 }' "$RUN_DIR/pids" | tail -n1
}

start_component() { # start_component NAME COMMAND...: runs it in the background (in $NETNS if set), records its pid
  local name=$1; shift
  # Logs go to files so the processes hold no pipe of the caller open (a Node parent would otherwise wait for them).
  # `ip netns exec` execs the command in place, so $! is the component's own pid either way.
  if [ -n "$NETNS" ]; then
    ip netns exec "$NETNS" "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
  else
    "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
  fi
  local pid=$! start
  start=$(proc_starttime "$pid") || die "$name exited at once; see $LOG_DIR/$name.log"
  echo "$name $pid $start" >>"$RUN_DIR/pids"
}

stop_component() { # SIGTERM, then SIGKILL after $STOP_GRACE seconds; drops the record
  local name=$1 rec pid start i
  rec=$(record_of "$name")
  if [ -n "$rec" ]; then
    read -r pid start <<<"$rec"
    if proc_alive "$pid" "$start"; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < STOP_GRACE * 10; i++)); do proc_alive "$pid" "$start" || break; sleep 0.1; done
      if proc_alive "$pid" "$start"; then
        echo "cluster: $name (pid $pid) ignored SIGTERM for ${STOP_GRACE}s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do proc_alive "$pid" "$start" || break; sleep 0.1; done
      fi
    fi
  fi
  [ -f "$RUN_DIR/pids" ] && { awk -v c="$name" '$1 != c' "$RUN_DIR/pids" >"$RUN_DIR/pids.tmp"; mv "$RUN_DIR/pids.tmp" "$RUN_DIR/pids"; }
  return 0
}

component_alive() {
  local rec pid start
  rec=$(record_of "$1"); [ -n "$rec" ] || return 1
  read -r pid start <<<"$rec"
  proc_alive "$pid" "$start"
}

any_alive() {
  local c
  for c in $COMPONENTS; do component_alive "$c" && return 0; done
  return 1
}

in_netns() { # runs a helper command (curl, ss, kubectl) where the control plane's loopback is
  if [ -n "$NETNS" ]; then ip netns exec "$NETNS" "$@"; else "$@"; fi
}

wait_until() { # wait_until COMPONENT DESCRIPTION COMMAND...: polls COMMAND, fails fast if COMPONENT died
  local name=$1 what=$2 deadline=$((SECONDS + START_TIMEOUT)); shift 2
  until "$@" >/dev/null 2>&1; do
    component_alive "$name" || { log_tail "$name"; die "$name exited before $what"; }
    [ "$SECONDS" -lt "$deadline" ] || { log_tail "$name"; die "$name: no $what after ${START_TIMEOUT}s"; }
    sleep 0.2
  done
}

log_tail() { [ -f "$LOG_DIR/$1.log" ] && { echo "---- last lines of $LOG_DIR/$1.log" >&2; tail -n 25 "$LOG_DIR/$1.log" >&2; }; return 0; }
