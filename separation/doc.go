// Package separation pulls the voices of known speakers apart: speaker
// models trained with NMF, layered NMF (L-NMF) or discriminative layered NMF
// (DL-NMF), separation by Wiener gains, and model files.
//
// Conventions. Spectrograms are magnitude STFTs laid out frequency x time
// (bins x frames), as nmf.Dense[float32] matrices: the default run path of the
// NMF engine is float32 on OpenBLAS. A speaker model is the layers W1...WL of
// a layered NMF (one layer for plain NMF); its basis is their product. For S
// speakers the compound model of the paper's eqs. 9-10 is block-diagonal, so
// I * blockdiag(W_1, ..., W_S) is simply the speakers' bases side by side and
// the activations H stack vertically in speaker order. Nothing here assumes
// S = 2.
//
// Separation (eqs. 11, 19-20): with every basis fixed, H is inferred on the
// mixture's magnitude spectrogram Y; speaker s gets the Wiener gain
// (B_s H_s) / sum_r (B_r H_r) applied to the mixture's complex STFT, so the
// estimates keep the mixture's phase and add up to the mixture. Frames are
// independent once the bases are fixed, so long recordings are separated
// block by block (see Separator) with results equal to whole-file processing;
// SeparateStream pulls the samples from a source and pushes the estimates to
// a sink block by block, so memory does not grow with the recording.
//
// Full band (SeparateSettings.Rate above the model's rate): the STFT runs at
// the mixture's rate with the model's window, FFT and hop scaled to the same
// durations, so bin b lies at the model's bin b frequency and the model's
// bins are the spectrogram's first rows (magnitudes scaled back to the
// model's window length). H and the gains come from those rows alone; every
// bin above gets, per frame, the speaker's share of the magnitude in the
// model's top quarter band over 5 frames (UpperSmoothed; UpperTopBin and
// UpperEven are the alternatives it was measured against on TSP at 48 kHz).
// The gains still add up to 1, so the estimates add up to the mixture, and
// nothing is resampled.
//
// Sources without a model (extrasource.go, universal.go): with
// SeparateSettings.Free = K, K more bases are learned on each mixture (each
// block of a long one) beside the fixed ones, by multiplicative updates of
// those bases and all activations (nmf.InferFree; Smaragdis, Raj and
// Shashanka 2007), and their Wiener-gain estimate is one more source,
// OtherName; the estimates still add up to the mixture, but a block no
// longer equals whole-file processing (each learns its own bases). A Live
// learns them online instead, from a buffer of the last seconds of frames,
// every few frames (OnlineFree, livefree.go). A model's
// Universal speech model is the other source instead: several speakers'
// bases side by side, inferred with a group-sparsity penalty per speaker
// (nmf.GroupSparsity; Sun and Mysore 2013) so that a few of them explain a
// talker nobody trained. A model of one speaker needs one or the other.
//
// Training is one pipeline (TrainingSet.Train; Train for one model):
// layer-wise pretraining and fine-tuning per speaker, speaker i seeded with
// SpeakerSeed, then, for DL-NMF, Discriminate. A TrainingSet computes the
// spectrograms once for several models and can keep the first layer of each
// K1 and the L-NMF layers for later models (ShareLayers), as the experiment
// does; the models are bit-identical to those trained from scratch.
//
// DL-NMF (eqs. 12-18): starting from L-NMF models, each round infers H on the
// discriminative mixtures with the bases fixed, then updates every layer of
// every speaker, H fixed, so that speaker s's part of the model reconstructs
// its clean spectrogram S_s (one problem per speaker, thanks to the
// block-diagonal form). The discriminative cost of a round is
// sum_s D(S_s || B_s Ĥ_s) with Ĥ inferred from the mixtures; a round whose
// bases would raise it is rejected and training stops (see Discriminate).
//
// Package separation does no file I/O except in modelfile.go, which reads and
// writes model files (.npz, opened by numpy.load).
package separation
