#!/usr/bin/env bash
# Runs the experiments of docs/RESULTS.md, "Sources without a model"
# (sources without a model): TSP FA known against the unknown talker MC at 0 dB (free bases
# K = 10, 20, 40, a universal model of CMU ARCTIC slt + bdl, and the
# supervised model of both), and FA in white, pink and babble noise
# (scripts/make-noise.sh) at 0 and 5 dB. NMF K = 20 for every model.
#
# The settings of the free and universal rows are chosen on validation
# mixtures, never on the test ones. For each condition:
#   1. validation: VREPEATS repeats scored on the held-back 20% share
#      (dlnmf experiment --score-on validation, which no row trains on), over
#      free bases FREE_GRID x start (random, or the quietest frames) x
#      inference iterations ITERS_GRID (and, for the
#      unknown talker, the universal model's bases per speaker UNI_K_GRID
#      (one validation run each, OUTDIR/CONDITION/validation-kK) x pruning
#      PRUNE_GRID x sparsity SPARSITY_GRID x ITERS_GRID); the best free row
#      and the best universal row by mean validation SDRi go to
#      OUTDIR/CONDITION/validation/picked.txt (with universal_k);
#   2. test: REPEATS repeats on the test share with the picked start and iterations,
#      free K = 10, 20, 40 (the issue's rows; the picked K is among them) and
#      the picked sparsity, with paired t-tests (results.md).
# OUTDIR/picked.md lists every condition's picks.
#
#   scripts/semi-results.sh OUTDIR        # REPEATS=15 VREPEATS=2 by default
#   CONDITIONS=unknown-MC-0dB scripts/semi-results.sh OUTDIR   # some conditions only
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/dlnmf-semi-results}
repeats=${REPEATS:-15}
vrepeats=${VREPEATS:-2}
free_grid=${FREE_GRID:-10,20,40}
iters_grid=${ITERS_GRID:-10,25,50,200}
sparsity_grid=${SPARSITY_GRID:-0.0001,0.001,0.01,0.03}
uni_k_grid=${UNI_K_GRID:-20,40}
prune_grid=${PRUNE_GRID:-0,1.5,2}
conditions=${CONDITIONS:-all}
corpus=${CORPUS:-../shared/corpus}
# SkylakeX only where the processor has AVX-512 (elsewhere OpenBLAS knows it).
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
mkdir -p "$out"
go build -o "$out/dlnmf" ./cmd/dlnmf
scripts/make-noise.sh "$out/noise"
common=(--speaker "FA=$corpus/tsp/FA" --k 20 --quiet)
universal=(--universal "speech=$corpus/cmu-arctic/slt,$corpus/cmu-arctic/bdl")

# picked FILE KEY prints KEY's value in a picked.txt.
picked() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# run NAME ARGS...: validation, then test with the picked settings.
run() {
	local name=$1
	shift
	if [[ $conditions != all && ",$conditions," != *",$name,"* ]]; then return; fi
	local dir=$out/$name
	local validate=(experiment "${common[@]}" "$@" --repeats "$vrepeats" --score-on validation
		--free "$free_grid" --free-init random,quiet --semi-iters "$iters_grid")
	local p=$dir/validation/picked.txt
	if [[ " $* " == *" --universal "* ]]; then
		# One validation run per universal size; the best universal row of
		# all of them (the free rows are the same in each).
		local k best=-1e9 sdri
		for k in ${uni_k_grid//,/ }; do
			"$out/dlnmf" "${validate[@]}" --universal-k "$k" --universal-prune "$prune_grid" \
				--universal-weight "$sparsity_grid" -o "$dir/validation-k$k"
			sdri=$(picked "$dir/validation-k$k/picked.txt" universal_sdri)
			if awk -v a="$sdri" -v b="$best" 'BEGIN { exit !(a > b) }'; then
				best=$sdri
				mkdir -p "$dir/validation"
				{
					cat "$dir/validation-k$k/picked.txt"
					echo "universal_k $k"
				} >"$p"
			fi
		done
	else
		"$out/dlnmf" "${validate[@]}" -o "$dir/validation"
	fi
	local iters
	iters=$(picked "$p" free_iters)
	local uni=()
	if [[ -n $(picked "$p" universal_weight) ]]; then
		uni=(--universal-weight "$(picked "$p" universal_weight)" --universal-k "$(picked "$p" universal_k)" --universal-prune "$(picked "$p" prune)")
		if [[ $(picked "$p" universal_iters) != "$iters" ]]; then iters=$iters,$(picked "$p" universal_iters); fi
	fi
	"$out/dlnmf" experiment "${common[@]}" "$@" "${uni[@]}" --repeats "$repeats" \
		--free "$free_grid" --free-init "$(picked "$p" free_init)" --semi-iters "$iters" -o "$dir/test"
	{
		echo "## $name"
		echo
		echo '```'
		cat "$p"
		echo '```'
		echo
	} >>"$out/picked.md"
}

if [[ $conditions == all ]]; then : >"$out/picked.md"; fi
run unknown-MC-0dB --unknown "MC=$corpus/tsp/MC" --snr 0 "${universal[@]}"
for noise in white pink babble; do
	for snr in 0 5; do
		run "$noise-${snr}dB" --noise "$noise=$out/noise/$noise.wav" --snr "$snr"
	done
done
