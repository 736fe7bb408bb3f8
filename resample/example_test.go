package resample_test

import (
	"fmt"

	"github.com/dlnmf/dlnmf/resample"
)

func Example() {
	r, err := resample.New(48000, 16000)
	if err != nil {
		panic(err)
	}
	x := make([]float64, 48001) // one second and a sample at 48 kHz
	y := r.Apply(nil, x)        // dst nil: Apply allocates
	fmt.Println(len(y), r.OutputLen(len(x)))
	// Output: 16001 16001
}
