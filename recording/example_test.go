package recording_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// trainNMF trains a small NMF model of the speakers, as dlnmf train --method
// nmf --iters 40 would.
func trainNMF(speakers []separation.SpeakerData) (*separation.Model, error) {
	m, _, err := separation.Train(context.Background(), speakers, nil,
		separation.TrainSettings{Method: separation.NMF, NMF: nmf.Settings{MaxIter: 40, Seed: 1}})
	return m, err
}

// Separating a recording file as dlnmf separate does: the same rate policy,
// output names and bytes.
func ExampleSeparator_SeparateFile() {
	// A model of the demo's two speakers (dlnmf train writes such files;
	// separation.ReadFile reads them).
	train, held := demoSpeech(4)
	model, err := trainNMF(train)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	mix := filepath.Join(dir, "meeting.wav")
	if _, err := wav.WriteFile(mix, mixture(held), 16000, wav.PCM16); err != nil {
		fmt.Println(err)
		return
	}

	sp, err := recording.New(model, recording.Settings{}) // zero settings: the defaults
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := sp.SeparateFile(mix, nil, recording.Outputs{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Outputs {
		fmt.Println(filepath.Base(o))
	}
	// Output:
	// meeting.FA.wav
	// meeting.MC.wav
}

// A model of one speaker separates it from everything else with free bases
// learned on the recording (separation.DefaultFree of them, from its
// quietest frames), as dlnmf separate does given no --free.
func ExampleSeparator_Separate() {
	train, held := demoSpeech(4)
	model, err := trainNMF(train[:1])
	if err != nil {
		fmt.Println(err)
		return
	}
	sp, err := recording.New(model, recording.Settings{})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := mixture(held)
	est, err := sp.Separate([][]float64{x, x}, 16000) // two channels, down-mixed
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sp.Sources(), sp.Free(), len(est[0]) == len(x))
	// Output:
	// [FA other] 20 true
}

// A stream separated as it arrives, in chunks of any size: a 48 kHz stream
// and a 16 kHz model are separated full band.
func ExampleSeparator_NewLive() {
	train, held := demoSpeech(4)
	model, err := trainNMF(train)
	if err != nil {
		fmt.Println(err)
		return
	}
	sp, err := recording.New(model, recording.Settings{})
	if err != nil {
		fmt.Println(err)
		return
	}
	live, err := sp.NewLive(48000)
	if err != nil {
		fmt.Println(err)
		return
	}
	got := make([]int, len(sp.Sources()))
	sink := func(s int, y []float64) error { got[s] += len(y); return nil }
	x := make([]float64, 48000)
	copy(x, mixture(held))
	for i := 0; i < len(x); i += 1000 {
		if err := live.Push(x[i:min(i+1000, len(x))], sink); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := live.Finish(sink); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(live.Rate(), live.FullBand(), live.Latency().Round(time.Millisecond), got)
	// Output:
	// 48000 true 96ms [48000 48000]
}
