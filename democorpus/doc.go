// Package democorpus is the speech that "dlnmf demo" runs on, embedded in the
// binary so that the demo needs nothing to download: the paper's two
// speakers, FA (female) and MC (male) of the McGill TSP speech database
// (P. Kabal, TSP speech database, McGill University, 2002; Simplified BSD
// licence, see tsp/README.md), 60 Harvard sentences each, 145 s and 130 s.
//
// Every file is a 16 kHz mono 16-bit FLAC file, returned as its raw bytes;
// decode it with the wav package (which reads FLAC as it reads WAV). The
// files were resampled once from the corpus's 48 kHz originals by
// scripts/make-demo-corpus.sh.
package democorpus
