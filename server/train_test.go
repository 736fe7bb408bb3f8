package server

import (
	"slices"
	"testing"

	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

// TestTrainRequestPreset: a request without a method trains the validated
// preset as recording.Train settles it for the request's speakers (with
// reconstruction bases for 2 or more), and a method trains that method.
func TestTrainRequestPreset(t *testing.T) {
	for _, c := range []struct {
		req    TrainRequest
		method separation.Method
		sizes  []int
		recon  separation.Reconstruction
	}{
		{TrainRequest{Model: "m", Speakers: []string{"a", "b"}}, separation.NMF, []int{400}, separation.ReconstructionTrained},
		{TrainRequest{Model: "m", Speakers: []string{"a"}}, separation.NMF, []int{400}, separation.ReconstructionNone},
		{TrainRequest{Model: "m", Speakers: []string{"a", "b"}, Sizes: []int{50}}, separation.NMF, []int{50}, separation.ReconstructionTrained},
		{TrainRequest{Model: "m", Speakers: []string{"a", "b"}, Method: "dlnmf"}, separation.DLNMF, nil, separation.ReconstructionNone},
	} {
		ts, err := c.req.settings()
		if err != nil {
			t.Fatalf("%+v: %v", c.req, err)
		}
		if ts.Method != c.method || !slices.Equal(ts.Sizes, c.sizes) || ts.ReconstructionBases != c.recon {
			t.Errorf("%+v: %s %v, reconstruction %d; want %s %v, %d", c.req, ts.Method, ts.Sizes, ts.ReconstructionBases, c.method, c.sizes, c.recon)
		}
		if c.req.Method == "" {
			want := recording.TrainSettings{}.ForModel(len(c.req.Speakers), false)
			if ts.Context != want.Context || ts.Bands != want.Bands || ts.StepExponent != want.StepExponent || ts.MaskPower != want.MaskPower {
				t.Errorf("%+v: not the preset's model: %+v", c.req, ts.TrainSettings)
			}
		}
	}
	for _, bad := range []TrainRequest{
		{Model: "m", Speakers: []string{"a"}, Method: "dlnmf"},
		{Model: "m", Speakers: []string{"a", "b"}, Sizes: []int{50, 10}},
		{Model: "m", Speakers: []string{"a", "b"}, Method: "pca"},
	} {
		if _, err := bad.settings(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
