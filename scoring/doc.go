// Package scoring scores separated recordings against their references,
// the rules of "dlnmf eval", so that the command, Go programs, the Python
// package and a server get the same numbers from the same files.
//
// The scores are package bsseval's: SDR, SIR and SAR of BSS Eval v3 as
// mir_eval.separation.bss_eval_sources computes them, and SI-SDR (with
// mean removal). What this package adds around them:
//
//   - Files. Score reads a Set of reference and estimate files (WAV or
//     FLAC, down-mixed to the mean of their channels). Every file must be
//     at the same sample rate and of the same length (nothing is resampled
//     or cut: scores of signals that were aligned differently would not
//     compare), and none may be silent; the error names the file. Before
//     reading, the memory that scoring takes is estimated from the files'
//     headers and refused, with the figure, when the machine does not have
//     it (BSS Eval's memory grows with the square of the sources and with
//     the signals' length, and Go cannot recover from running out of it).
//   - Pairing. Without Settings.Permute estimate i is scored against
//     reference i; with it, the pairing that maximises the mean SIR
//     (mir_eval's compute_permutation). Results are indexed by reference
//     source: SDR[i] scores estimate Perm[i] against reference i.
//   - Improvements. With a mixture (the recording the estimates were
//     separated from), SDRi is SDR less the mixture's SDR, the mixture taken
//     as the estimate of every source without permutation (mir_eval's
//     bss_eval_sources(refs, [mix]*n)), and SI-SDRi likewise: the numbers
//     separation papers report. Whole signals only.
//   - Frames. With Settings.Window, scores are computed on frames of Window
//     samples every Hop samples (default Window/2), as mir_eval's
//     bss_eval_sources_framewise; a frame in which a reference or estimate
//     is silent is undefined (NaN, and no estimate in Perm).
//   - Folders. PairDirs pairs a folder of references with a folder of
//     estimates by name, the inverse of recording.OutputName: the estimate
//     of REF/P is EST/P, for every .wav or .flac file P (corpus.AudioFiles;
//     the extension may differ). Files form sets by name, one per mixture:
//     ITEM.SOURCE (the names dlnmf separate writes) or, for a name without
//     a dot, ITEM/SOURCE (museval's layout). A set's mixture is ITEM beside
//     ITEM.SOURCE files or ITEM/mixture beside ITEM/SOURCE files, among the
//     estimates first, else the references. ScoreDirs scores every set, in
//     parallel, and writes scores.json and scores.csv.
//
// Conventions: scores are in dB, as DB, whose JSON form writes an infinity
// (the SIR of a single source, a perfect estimate) or an undefined score
// as null; CSV writes an undefined score as an empty cell and infinities
// as +Inf and -Inf, and names from input as text a spreadsheet does not
// run. Library functions return errors and never print.
package scoring
