#!/usr/bin/env bash
# A real single-node Slurm cluster on localhost, for tests of `neurolab sweep --slurm`.
# Debian 12, as root, no systemd needed (the daemons are started directly).
#   scripts/slurm-local.sh start   # install if missing, configure, start munged/slurmctld/slurmd,
#                                  # wait until the node is idle (idempotent)
#   scripts/slurm-local.sh stop    # stop slurmd and slurmctld (munged too if we started it)
set -euo pipefail

RUN=/run/slurm                     # pid files
LOGS=/var/log/slurm
SPOOL=/var/spool/slurm
CONF=/etc/slurm/slurm.conf
MUNGE_MARK=$RUN/munged.started-by-slurm-local
MUNGE_PID=/run/munge/munged.pid    # Debian munged's default pid file

[ "$(id -u)" = 0 ] || { echo "slurm-local.sh: needs root" >&2; exit 2; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }    # alive PIDFILE

# Stop the daemon whose pid is in PIDFILE and wait (up to 10 s) until it is gone.
stop_pid() {
  alive "$1" || { rm -f "$1"; return 0; }
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

stop() {
  stop_pid "$RUN/slurmd.pid"
  stop_pid "$RUN/slurmctld.pid"
  if [ -e "$MUNGE_MARK" ]; then stop_pid "$MUNGE_PID"; rm -f "$MUNGE_MARK"; fi
}

fail() {
  echo "slurm-local.sh: $*" >&2
  for f in "$LOGS"/slurmctld.log "$LOGS"/slurmd.log /var/log/munge/munged.log; do
    [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 25 "$f" >&2; }
  done
  exit 1
}

start() {
  # 1. Packages (Debian's policy-rc.d in containers keeps apt from starting the services).
  local pkgs="slurm-wlm munge"
  if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null ||
     ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $pkgs ||
      { apt-get update && apt-get install -y --no-install-recommends $pkgs; }
  fi
  mkdir -p "$RUN" "$LOGS" "$SPOOL/ctld" "$SPOOL/d" /etc/slurm

  # 2. munge: a key, then the daemon (as the munge user; as root with --force if that fails).
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- munged 2>/dev/null || munged --force
    touch "$MUNGE_MARK"
    for _ in $(seq 25); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
    munge -n | unmunge >/dev/null 2>&1 || fail "munged did not start"
  fi

  # 3. slurm.conf for this host. CPUs/RealMemory must not exceed what slurmd detects, or the node
  #    is drained ("Low RealMemory"), hence the 10% memory margin. batch_sched_delay=0 starts the
  #    next wave of array tasks ~1 s after the last one ends instead of ~3 s. MailProg=/bin/true
  #    silences "MailProg is invalid" (no mailer installed).
  local host cpus mem new
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(free -m | awk '/^Mem:/ {print $2}') * 9 / 10 ))
  new=$(cat <<EOF
# Written by scripts/slurm-local.sh: a single-node test cluster.
ClusterName=neurolab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
  # A changed config means restarting daemons that run with the old one.
  if [ "$(cat "$CONF" 2>/dev/null)" != "$new" ]; then
    stop_pid "$RUN/slurmd.pid"; stop_pid "$RUN/slurmctld.pid"
    printf '%s\n' "$new" > "$CONF"
  fi

  # 4. The daemons (each forks into the background and writes its pid file).
  alive "$RUN/slurmctld.pid" || slurmctld || fail "slurmctld failed to start"
  alive "$RUN/slurmd.pid" || slurmd || fail "slurmd failed to start"

  # 5. Wait for the node to be usable; resume it if it registered down or drained.
  local state=""
  for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    case "$state" in
      idle|mixed|allocated|completing) echo "slurm-local: node $host $state"; return 0 ;;
      down|drain*|fail*) scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
  done
  fail "node $host not idle after 60 s (state: '${state:-no answer}'; sinfo -R: $(sinfo -h -R 2>&1 || true))"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
