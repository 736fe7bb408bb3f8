package separation

import (
	"fmt"

	"github.com/dlnmf/dlnmf/internal/sysmem"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// CheckMemory refuses, with one line naming both numbers, work whose
// estimated need (bytes, a lower bound from its sizes and data, such as
// TrainMemory's) is more than this machine has available. Call it before
// the work allocates: Go cannot recover from running out of memory. Where
// the available memory cannot be read, it lets the work go.
func CheckMemory(what string, need uint64) error {
	have, source, ok := sysmem.Available()
	if !ok || need <= have {
		return nil
	}
	return fmt.Errorf("%s needs at least %s of memory; this machine has %s available (%s): use smaller sizes or less data", what, FormatBytes(need), FormatBytes(have), source)
}

// FormatBytes formats n bytes with a binary unit, to three digits.
func FormatBytes(n uint64) string {
	v, unit := float64(n), "B"
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	if unit == "B" {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.3g %s", v, unit)
}

// TrainMemory estimates the bytes that training with s allocates at its
// peak, from the lengths in samples (at s.SampleRate) of every speaker's
// training utterances (speakers[i]) and of the discriminative mixtures
// (disc; ignored unless s.Method is DLNMF). It counts the large arrays of
// float32 only: the magnitude spectrograms a TrainingSet keeps (plus the
// largest speaker's pieces while they are joined), the largest speaker's
// factorisation work space (package nmf's solver: the factors, their
// numerators, one activation matrix per layer and, off the KL divergence,
// the denominators and two bins x frames buffers) and, for DL-NMF, the
// joined copies of the mixtures' spectrograms with the activations
// inferred on them. Every spectrogram counts with its patches' rows (bins
// times Context): training unfolds them. Small buffers and the Go runtime's own overhead are
// left out, so it is a lower bound: a run that needs more than a machine
// has cannot fit. Callers check it before anything is allocated, because Go
// cannot recover from running out of memory.
func TrainMemory(speakers [][]int, disc []int, s TrainSettings) (uint64, error) {
	s, err := s.withDefaults(len(speakers))
	if err != nil {
		return 0, err
	}
	plan, err := stft.NewPlan(s.STFT)
	if err != nil {
		return 0, err
	}
	// With patches of T frames (Context) every basis and the spectrogram
	// it is factorised against have T times the bins as rows (nmf.Unfold).
	M := float64(plan.Bins()) * float64(s.Context)
	frames := func(lengths []int) float64 {
		n := 0.0
		for _, l := range lengths {
			n += float64(plan.Frames(l))
		}
		return n
	}
	sizes := make([]float64, len(s.Sizes))
	for i, k := range s.Sizes {
		sizes[i] = float64(k)
	}
	KL := sizes[len(sizes)-1]
	// The zero Divergence is Kullback-Leibler, nmf's default.
	kl := s.NMF.Divergence == nmf.KullbackLeibler || (s.NMF.Divergence == nmf.BetaDivergence && s.NMF.Beta == 1)
	basis := M * sizes[0] // W1 and the layers above it
	for l := 1; l < len(sizes); l++ {
		basis += sizes[l-1] * sizes[l]
	}
	// solver is the work space of factorising a bins x n spectrogram.
	solver := func(n float64) float64 {
		acts := 0.0
		for _, k := range sizes {
			acts += k * n
		}
		need := 2*(basis+KL*n) + acts
		if !kl {
			need += basis + KL*n + 2*M*n
		}
		return need
	}
	var spectra, largest, work float64
	for _, sp := range speakers {
		n := frames(sp)
		spectra += M * n
		largest = max(largest, M*n)
		work = max(work, solver(n))
	}
	cells := spectra + largest + float64(len(speakers))*basis
	if s.Method == DLNMF {
		nd := frames(disc)
		S := float64(len(speakers))
		// The mixtures and their sources, kept and joined; H (and its
		// numerator) of the compound basis on the joined mixtures.
		discCells := 2 * (1 + S) * M * nd
		discWork := 2*S*KL*nd + 2*M*S*KL
		if !kl {
			discWork += 2 * M * nd
		}
		cells += discCells
		work = max(work, discWork)
	}
	return uint64(4 * (cells + work)), nil
}
