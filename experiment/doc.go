// Package experiment runs the paper's protocol (docs/protocol.md, section
// "The experiment") on any set of speakers and summarises it the way Table 1
// does, with the statistics the paper lacks.
//
// One repeat shuffles each speaker's utterances with its own seed, trains
// every method on 70% of them, uses 20% as discriminative mixtures for
// DL-NMF and 10% as test mixtures, and scores every separated test speaker
// with BSS Eval v3. Repeats are independent, so a Runner runs several at once
// (one core each) and saves every finished repeat, which makes a long run
// resumable.
//
// A repeat trains through the same pipeline as dlnmf train
// (separation.TrainingSet), pairs its mixtures by the same rule
// (corpus.Pair) and seeds its models by one rule (RepeatSeed, then
// separation.SpeakerSeed per speaker): train given a repeat's files, in the
// repeat's order, and its seed builds the repeat's very models. Work shared
// between methods is done once per repeat (PrepareRepeat): the split, the
// mixtures, the speakers' spectrograms, layer-1 pretraining, which does not
// depend on K2, and the L-NMF layers that DL-NMF starts from.
//
// The work is cut into units (Units), saved with checksums so that a run
// resumes and shards over a scheduler's tasks; Interference, a known
// speaker against a talker or noise that no model knows, runs as units too.
package experiment
