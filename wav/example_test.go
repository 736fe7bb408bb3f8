package wav_test

import (
	"bytes"
	"fmt"

	"github.com/dlnmf/dlnmf/wav"
)

func Example() {
	var buf bytes.Buffer
	clipped, err := wav.Encode(&buf, [][]float64{{0, 0.5, -0.5, 1.5}}, 16000, wav.PCM16)
	if err != nil {
		panic(err)
	}
	a, err := wav.Decode(&buf)
	if err != nil {
		panic(err)
	}
	fmt.Println(clipped, "clipped;", a.Rate, "Hz,", a.Encoding, a.Mono())

	_, err = wav.Decode(bytes.NewReader([]byte("#!/bin/sh\necho hello\n")))
	fmt.Println(err)
	// Output:
	// 1 clipped; 16000 Hz, 16-bit PCM [0 0.5 -0.5 0.999969482421875]
	// wav: not a WAV file: it looks like text (starts "#!/bin/sh\nec")
}
