#!/usr/bin/env bash
# Runs dlnmf as a batch worker under a real, one-node Slurm cluster that this
# script starts and stops, from "make test" and so from .ci/run.
#
#   1. installs Debian's slurm-wlm and munge when missing (as root, apt-get);
#   2. writes a one-node slurm.conf (this machine's CPUs and memory) and a
#      munge key into a fresh temporary folder, picks free ports, and starts
#      munged (as the munge user, on its own socket), slurmctld and slurmd;
#   3. waits until sinfo shows the node idle, then runs the checks in
#      scripts/slurm-checks.sh with SLURM_CONF pointing at this cluster;
#   4. cancels what is left of its jobs, stops exactly the daemons it started
#      (by their process ids) and removes its folder, also on failure, after
#      printing the daemons' logs.
#
# Nothing is shared with another run or with a system Slurm: state, spool,
# logs, the munge socket and key live in the temporary folder, and the ports
# are picked free, so two runs at once (or one left over) do not meet.
# When Slurm cannot be installed or started the script says so and fails:
# there is no silent skip.
#
# Known to work on Debian 12 (Slurm 22.05): SlurmUser=root,
# proctrack/linuxproc, task/none, jobacct_gather/none, select/cons_tres and
# no cgroup.conf at all. cred_expire=10 (default 120) is also how long a
# requeued job waits before it may start again.
#
# Usage: scripts/slurm-test.sh [CHECK-SCRIPT]   (default scripts/slurm-checks.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
checks=${1:-scripts/slurm-checks.sh}
t0=$SECONDS

say() { echo "slurm-test: $*" >&2; }
fail() {
  say "FAIL: $*"
  exit 1
}

# --- 1. install -------------------------------------------------------------
need=(/usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch /usr/sbin/munged)
have_all() {
  local b
  for b in "${need[@]}"; do [ -x "$b" ] || return 1; done
}
if ! have_all; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "Slurm is not installed and cannot be installed here (needs root and apt-get): apt-get install slurm-wlm munge"
  fi
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq -o DPkg::Lock::Timeout=120 --no-install-recommends slurm-wlm munge >/tmp/slurm-test-apt.$$ 2>&1; then
    apt-get update -qq >>/tmp/slurm-test-apt.$$ 2>&1 || true
    apt-get install -y -qq -o DPkg::Lock::Timeout=120 --no-install-recommends slurm-wlm munge >>/tmp/slurm-test-apt.$$ 2>&1 || {
      tail -20 /tmp/slurm-test-apt.$$ >&2
      rm -f /tmp/slurm-test-apt.$$
      fail "apt-get could not install slurm-wlm and munge"
    }
  fi
  rm -f /tmp/slurm-test-apt.$$
  have_all || fail "slurm-wlm and munge installed, but ${need[*]} are not all there"
  say "installed in $((SECONDS - t0)) s"
fi
[ "$(id -u)" -eq 0 ] || fail "the daemons must be started as root (SlurmUser=root)"
id munge >/dev/null 2>&1 || fail "there is no munge user (the munge package makes it)"

# --- 2. configure and start -------------------------------------------------
T=$(mktemp -d /tmp/dlnmf-slurm.XXXXXX)
chmod 755 "$T" # the munge user must reach its folder inside
pids=()        # daemons started here, stopped in reverse order
ok=0

cleanup() {
  local rc=$?
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
    # Our jobs only: this cluster has no others.
    scancel --quiet --full 2>/dev/null
    for _ in $(seq 40); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  if [ "$ok" != 1 ]; then
    say "failed after $((SECONDS - t0)) s; the daemons' logs follow"
    for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/munge/munged.log; do
      [ -f "$f" ] && { echo "----- $f (last 40 lines)" >&2; tail -40 "$f" >&2; }
    done
    for f in "$T"/jobs/*.out; do
      [ -f "$f" ] && { echo "----- $f (last 20 lines)" >&2; tail -20 "$f" >&2; }
    done
  fi
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$T"
  [ "$ok" = 1 ] && rc=0
  [ "$rc" = 0 ] || rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# free_port prints a TCP port nobody listens on (and that is not $1).
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [ "$p" = "${1:-}" ] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
      echo "$p"
      return
    }
  done
  fail "no free TCP port found"
}

mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/jobs"
chown munge:munge "$T/munge"
chmod 755 "$T/munge" # munged wants its socket folder open to all (the key stays 0400)
dd if=/dev/urandom bs=1 count=1024 of="$T/munge/munge.key" status=none
chown munge:munge "$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"

# munged stays in the foreground (-F), so $! is its own pid; setpriv execs it
# as the munge user without a forking session wrapper.
setpriv --reuid=munge --regid=munge --init-groups -- /usr/sbin/munged -F \
  --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" \
  --seed-file="$T/munge/munged.seed" >"$T/munge/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ -S "$T/munge/munge.sock" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$T/munge/munged.out" >&2; fail "munged exited at start"; }
  sleep 0.1
done
[ -S "$T/munge/munge.sock" ] || fail "munged made no socket in 10 s"

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cport=$(free_port)
dport=$(free_port "$cport")
cat >"$T/slurm.conf" <<EOF
# A one-node cluster for scripts/slurm-test.sh; everything under $T.
ClusterName=dlnmftest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock,cred_expire=10
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=600
MessageTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf

/usr/sbin/slurmctld -D -i -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
pids+=($!)
/usr/sbin/slurmd -D -f "$SLURM_CONF" -N "$host" >"$T/slurmd.out" 2>&1 &
pids+=($!)

state=
for _ in $(seq 120); do
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { cat "$T"/*.out >&2; fail "a daemon exited at start (pid $p)"; }
  done
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || fail "the node is not idle after 60 s (sinfo says '${state:-nothing}')"
say "cluster up in $((SECONDS - t0)) s (controller port $cport, node $host with $cpus CPUs, $mem MB)"

# --- 3. the checks ----------------------------------------------------------
export SLURM_TEST_DIR=$T/jobs SLURM_TEST_REPO=$repo
bash "$checks"

ok=1
say "passed in $((SECONDS - t0)) s"
