package nmf_test

import (
	"fmt"

	"github.com/dlnmf/dlnmf/nmf"
)

// A two-layer model X ≈ W1 W2 H of a 6 x 8 matrix, then fixed-basis
// inference of H for the same data (eq. 11).
func Example() {
	X := nmf.NewDense[float32](6, 8, nil)
	for i := 0; i < X.Rows; i++ {
		for j := 0; j < X.Cols; j++ {
			X.Set(i, j, float32(1+(i*j)%4))
		}
	}
	f, res, err := nmf.Train(X, []int{4, 2}, nmf.Settings{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("W1", f.Layers[0].Rows, "x", f.Layers[0].Cols, "W2", f.Layers[1].Rows, "x", f.Layers[1].Cols, "H", f.H.Rows, "x", f.H.Cols)
	fmt.Println("cost fell:", res.Cost[len(res.Cost)-1] < res.Cost[0])

	H, _, err := nmf.Infer(nil, X, f.Basis(nil), nmf.Settings{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("inferred H", H.Rows, "x", H.Cols)
	// Output:
	// W1 6 x 4 W2 4 x 2 H 2 x 8
	// cost fell: true
	// inferred H 2 x 8
}
