// Package corpus loads speakers' recordings and lays out the paper's
// experiment: per-speaker shuffles, the 70/20/10 split into training,
// discriminative and test sentences, mixing at a given SNR, and the one rule
// that pairs speakers' utterances into mixtures (Pair; DiscMixtures gives
// DL-NMF's discriminative mixtures in the form separation.Train takes).
//
// A speaker is a folder of WAV or FLAC files, one utterance each, read in
// sorted order, or the files a list names, less those that exclusion
// patterns match (SpeakerSettings; LoadSpeaker is the rule every door
// reads speakers by), down-mixed to mono and resampled to the working rate
// (16 kHz by default). Everything random takes a seed: the same seed gives
// the same split.
package corpus
