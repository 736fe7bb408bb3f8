#!/usr/bin/env bash
# A bounded load test of dlnmf serve on loopback, against the command line
# on the same machine:
#   1. the command line: dlnmf separate --jobs $(nproc) on 3 s mixtures
#      for DURATION seconds, for the seconds of audio it separates per
#      second of wall time, and the CPU seconds it spends per second of
#      audio;
#   2. at capacity: WORKERS+QUEUE clients, each posting a 3 s mixture to
#      /v1/separate (answered when separated) and posting again, for
#      DURATION seconds: throughput, p50 and p99 latency, every status code
#      (all must be 200);
#   3. at twice capacity: twice as many clients: only 200 and 429 (with
#      Retry-After) may come back, and the server must stay up;
#   4. the server's peak RSS over both runs;
#   5. a SIGKILL while long recordings (jobs, 202) run and wait, then a
#      restart on the same data folder: every acknowledged job must end
#      done (or failed with a reason), none lost.
# The clients are one Go process (scripts/loadclient) over kept-alive
# connections, not a process per request. Each phase prints, beside the
# throughput, the CPU seconds per second of audio of the server's process
# (from /proc/PID/stat) against the command line's, which is the server's
# overhead whatever else the machine runs, and the CPU the clients and the
# rest of the machine took over the phase, which is what throughput
# competes with. Prints the machine's load first: the throughputs are only
# comparable on an otherwise idle machine.
#
#   scripts/bench-serve.sh                 # 60 s per phase
#   DURATION=20 MODEL=lnmf.npz scripts/bench-serve.sh
#   DURATION=3 LONG=33 scripts/bench-serve.sh  # a quick check that it runs
set -euo pipefail
cd "$(dirname "$0")/.."
export "$(scripts/cgo-env.sh)"
DURATION=${DURATION:-60}
WORKERS=${WORKERS:-$(nproc)}
QUEUE=${QUEUE:-$WORKERS}
LONG=${LONG:-120} # seconds of each recording of the SIGKILL phase (over 30: jobs, 202)
MIXES=16
work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
say() { echo "bench-serve: $*" >&2; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $CGO_ENABLED; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
go build -o "$work/dlnmf" ./cmd/dlnmf
go build -o "$work/loadclient" ./scripts/loadclient
dl=$work/dlnmf
tck=$(getconf CLK_TCK)
# cpu PID: the CPU seconds (user and system) process PID has used;
# cpu_children PID: those of its children it waited for.
cpu() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$tck" '{printf "%.2f", ($12 + $13) / t}'; }
cpu_children() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}'; }
# busy: the CPU seconds the whole machine has used since it started.
busy() { awk -v t="$tck" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / t}' /proc/stat; }

if [ -n "${MODEL:-}" ]; then
	cp "$MODEL" "$work/model.npz"
else
	say "training the model (lnmf, layers 180,20, on the demo corpus; MODEL=FILE skips this)"
	"$dl" train --quiet --method lnmf --layers 180,20 --speaker FA=democorpus/tsp/FA --speaker MC=democorpus/tsp/MC -o "$work/model.npz"
fi
mkdir -p "$work/mix"
fa=(democorpus/tsp/FA/*.flac)
mc=(democorpus/tsp/MC/*.flac)
for i in $(seq 1 $MIXES); do
	sox -V1 -m "${fa[-i]}" "${mc[-i]}" -b 16 "$work/mix/mix$i.wav" pad 0 3 trim 0 3 # 3 s, silence after a short sentence
done
sox $(for i in $(seq 1 $(( (LONG + 2) / 3 ))); do echo "$work/mix/mix$(( i % MIXES + 1 )).wav"; done) "$work/long.wav" # LONG s: a job (202)

# 1. The command line.
mkdir -p "$work/cli"
for r in 1 2 3 4; do for i in $(seq 1 $MIXES); do ln -s "$work/mix/mix$i.wav" "$work/cli/r$r-$i.wav"; done; done
# Rounds of 64 files for DURATION seconds, as long as the server's runs, so
# that both see the machine's load over a like stretch of time.
files=0
c0=$(cpu_children $$)
b0=$(busy)
t0=$(date +%s.%N)
end=$(( $(date +%s) + DURATION ))
while [ "$(date +%s)" -lt "$end" ]; do
	rm -rf "$work/cli-out"
	"$dl" separate --quiet --jobs "$(nproc)" -m "$work/model.npz" -o "$work/cli-out" "$work"/cli/*.wav
	files=$((files + 4 * MIXES))
done
t1=$(date +%s.%N)
c1=$(cpu_children $$)
b1=$(busy)
cli=$(echo "$files $t0 $t1" | awk '{printf "%.1f", $1 * 3 / ($3 - $2)}')
# CPU seconds per second of audio (the children of this shell in the loop:
# the separations, and rm and date, which are next to nothing).
cli_cpu=$(echo "$c0 $c1 $files" | awk '{printf "%.4f", ($2 - $1) / ($3 * 3)}')
echo "command line: $files mixtures of 3 s in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s (rounds of $((4 * MIXES)) files) with --jobs $(nproc): $cli s of audio per s"
echo "  CPU: $cli_cpu s per s of audio; the rest of the machine: $(echo "$b0 $b1 $c0 $c1" | awk '{r = ($2 - $1) - ($4 - $3); printf "%.1f", (r > 0 ? r : 0)}') CPU s while it ran"

# The server, on the data folder $work/data; sets server_pid and url.
start_server() {
	"$dl" serve --addr 127.0.0.1:0 --data "$work/data" --workers "$WORKERS" --queue "$QUEUE" 2>"$work/server.log" &
	server_pid=$!
	url=
	for _ in $(seq 1 100); do
		url=$(grep -so 'url=http://[^ ]*/' "$work/server.log" | head -1 | cut -d= -f2) || true
		[ -n "$url" ] && curl -sf "${url}healthz" >/dev/null && return
		sleep 0.1
	done
	say "the server did not start:"
	cat "$work/server.log" >&2
	exit 1
}
mkdir -p "$work/data/models"
cp "$work/model.npz" "$work/data/models/bench.npz"
start_server

# load N SECONDS NAME: N clients posting mixtures until SECONDS have
# passed; each request's line goes to $work/NAME.all, the totals to
# $work/NAME.sum with the server's and the machine's CPU seconds.
load() {
	local n=$1 secs=$2 name=$3 s0 s1 b0 b1
	s0=$(cpu "$server_pid")
	b0=$(busy)
	"$work/loadclient" -url "$url" -model bench -clients "$n" -seconds "$secs" -o "$work/$name.all" "$work"/mix/*.wav >"$work/$name.sum"
	s1=$(cpu "$server_pid")
	b1=$(busy)
	echo "server $s0 $s1 busy $b0 $b1" >>"$work/$name.sum"
}
summary() {
	local name=$1
	echo "  status codes: $(cut -d' ' -f1 "$work/$name.all" | sort | uniq -c | awk '{printf "%s x%d  ", $2, $1}')"
	# requests N ok N wall S cpu S / server S0 S1 busy B0 B1
	read -r _ _ _ ok _ wall _ client _ s0 s1 _ b0 b1 <<<"$(tr '\n' ' ' <"$work/$name.sum")"
	awk '$1 == 200 {print $2}' "$work/$name.all" | sort -n | awk -v ok="$ok" -v wall="$wall" -v cli="$cli" -v clicpu="$cli_cpu" \
		-v server="$(echo "$s0 $s1" | awk '{print $2 - $1}')" -v client="$client" -v machine="$(echo "$b0 $b1" | awk '{print $2 - $1}')" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "  no request succeeded"; exit }
			p50 = v[int((NR - 1) * 0.50) + 1]; p99 = v[int((NR - 1) * 0.99) + 1]
			audio = ok * 3; tp = audio / wall
			printf "  %d mixtures separated in %.1f s: %.1f s of audio per s (%.0f%% of the command line), latency p50 %.0f ms, p99 %.0f ms\n", ok, wall, tp, 100 * tp / cli, 1000 * p50, 1000 * p99
			printf "  CPU: the server %.4f s per s of audio (%.0f%% of the command line'"'"'s %.4f); the clients %.2f s; the rest of the machine %.1f s\n", server / audio, 100 * server / audio / clicpu, clicpu, client, max(0, machine - server - client)
		}
		function max(a, b) { return a > b ? a : b }'
}

cap=$((WORKERS + QUEUE))
echo "server: $WORKERS workers, queue $QUEUE: capacity $cap requests at once"
say "at capacity: $cap clients for $DURATION s"
load "$cap" "$DURATION" cap
echo "at capacity ($cap clients, $DURATION s):"
summary cap
say "at twice capacity: $((2 * cap)) clients for $DURATION s"
load $((2 * cap)) "$DURATION" twice
echo "at twice capacity ($((2 * cap)) clients, $DURATION s):"
summary twice
echo "  429s with Retry-After: $(awk '$1 == 429 && $3 == 1' "$work/twice.all" | wc -l); other codes: $(awk '$1 != 200 && $1 != 429' "$work/twice.all" | wc -l)"
curl -sf "${url}healthz" >/dev/null && echo "  the server is up after it" || echo "  THE SERVER IS DOWN"
echo "peak RSS of the server: $(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$server_pid/status")"
curl -sf "${url}metrics" | grep -E '^dlnmf_(audio|errors|jobs_finished)' | sed 's/^/  /'

# 5. SIGKILL in the middle of running and queued jobs.
ids=()
for _ in $(seq 1 $((WORKERS + QUEUE))); do
	id=$(curl -s -H 'Content-Type: audio/wav' --data-binary "@$work/long.wav" "${url}v1/separate?model=bench" | grep -o '"id": "[0-9a-f]*"' | cut -d'"' -f4)
	ids+=("$id")
done
sleep 1
running=$(curl -s "${url}metrics" | awk '/^dlnmf_jobs_running/ {print $2}')
queued=$(curl -s "${url}metrics" | awk '/^dlnmf_jobs_queued/ {print $2}')
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
echo "SIGKILL with ${#ids[@]} jobs of $LONG s acknowledged ($running running, $queued queued)"
start_server
done_=0; failed=0; lost=0
for id in "${ids[@]}"; do
	while :; do
		state=$(curl -s "${url}v1/jobs/$id" | grep -o '"state": "[a-z]*"' | cut -d'"' -f4)
		case $state in
		done) done_=$((done_ + 1)); break ;;
		failed) failed=$((failed + 1)); break ;;
		queued | running) sleep 0.5 ;;
		*) lost=$((lost + 1)); break ;;
		esac
	done
done
echo "after the restart: $done_ done, $failed failed, $lost lost (resumed: $(grep -c 'job resumed' "$work/server.log"))"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
