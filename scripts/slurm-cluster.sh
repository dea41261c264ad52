#!/usr/bin/env bash
# A throw-away single-node Slurm on this machine, for tests and trying the
# factory's Slurm executor: its own munge key and socket, a generated
# slurm.conf, free ports, and every file under one folder. Needs Debian's
# slurm-wlm and munge packages and root (slurmd starts jobs as their user).
#
#   scripts/slurm-cluster.sh start DIR   start munged, slurmctld and slurmd; prints the
#                                         SLURM_CONF line to export for sbatch/squeue/scancel
#   scripts/slurm-cluster.sh stop DIR    stop the daemons (and cancel what still runs)
#   scripts/slurm-cluster.sh check       exit 0 if the packages and privileges are there
set -euo pipefail

need() { command -v "$1" >/dev/null 2>&1 || { echo "slurm-cluster: $1 not found (apt-get install slurm-wlm munge)" >&2; return 1; }; }

check() {
  need munged && need slurmctld && need slurmd && need sbatch && need squeue && need scancel || return 1
  if [ "$(id -u)" != 0 ]; then echo "slurm-cluster: needs root (slurmd launches jobs as their owner)" >&2; return 1; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for() { # seconds, description, command...
  local t=$1 what=$2; shift 2
  for _ in $(seq 1 $((t * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "slurm-cluster: $what did not come up in ${t}s" >&2
  return 1
}

start() {
  local dir
  dir=$(mkdir -p "$1" && cd "$1" && pwd)
  check
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  head -c 1024 /dev/urandom > "$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed"
  wait_for 10 munged test -S "$dir/munge/munge.sock"

  local host cpus mem ctld_port d_port
  host=$(hostname -s)
  # the node's real shape, as slurmd sees it (a mismatch would drain the node)
  cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  ctld_port=$(free_port)
  d_port=$(free_port)
  while [ "$d_port" = "$ctld_port" ]; do d_port=$(free_port); done
  cat > "$dir/slurm.conf" <<EOF
ClusterName=ziya-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
# a test cluster: look at the queue every second rather than every minute
SchedulerParameters=sched_interval=1,batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -i -f "$SLURM_CONF"
  wait_for 20 slurmctld scontrol ping
  slurmd -f "$SLURM_CONF"
  wait_for 30 "the node" bash -c "sinfo -h -N -o %t | grep -qE '^(idle|mix|alloc)'"
  echo "export SLURM_CONF=$dir/slurm.conf"
}

stop() {
  local dir
  dir=$(cd "$1" && pwd)
  export SLURM_CONF="$dir/slurm.conf"
  if [ -f "$SLURM_CONF" ]; then scancel --user="$(id -un)" >/dev/null 2>&1 || true; fi
  for p in slurmd slurmctld munge/munged; do
    if [ -f "$dir/$p.pid" ]; then
      local pid
      pid=$(cat "$dir/$p.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$p.pid"
    fi
  done
}

case "${1:-}" in
  start) start "${2:?usage: $0 start DIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  check) check ;;
  *) echo "usage: $0 start DIR | stop DIR | check" >&2; exit 2 ;;
esac
