// Package democorpus is the project's own small speech corpus, embedded in
// the binary so that "dlnmf demo" runs on a fresh machine with no data to
// fetch: two clearly different synthetic English voices ("male", "female")
// made with espeak-ng, each reading 24 different Harvard sentences.
//
// Every file is a 16 kHz mono 16-bit PCM WAV file, returned as its raw
// bytes; decode it with the wav package. The files were made by
// scripts/make-demo-corpus.sh (see README.md in this directory); they are not
// derived from any other corpus.
package democorpus
