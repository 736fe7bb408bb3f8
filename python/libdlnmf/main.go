// Command libdlnmf is dlnmf's C shared library, the door through which the
// Python package (python/dlnmf) calls the Go library in-process:
//
//	go build -buildmode=c-shared -o python/dlnmf/libdlnmf.so ./python/libdlnmf
//
// Conventions of every exported function, stated once:
//
//   - Arrays cross as pointers and sizes, row-major. Inputs are read during
//     the call only and never kept. Outputs of a size the caller knows are
//     written into buffers it passes; outputs of a size only the library
//     knows are allocated here with C's malloc and handed over with their
//     size, and the caller releases them with dlnmf_free.
//   - Each function returns NULL on success or a one-line error message
//     (malloc'ed; release with dlnmf_free). A panic inside the call is
//     recovered and returned as a message too, so no Go panic reaches the
//     interpreter. (Panics on goroutines the library starts cannot be
//     recovered here; the library's contract is that data never causes
//     them, only programmer errors, which the checks here rule out.)
//   - Objects that live across calls (models, live separators) stay on the
//     Go side; the caller holds an integer handle (runtime/cgo.Handle),
//     never a Go pointer, and releases it with the matching *_close.
//   - Functions are safe to call from several threads at once; a handle's
//     object guards itself where it has state.
package main

/*
#include <stdint.h>
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"strings"
	"unsafe"
)

func main() {}

// call runs f and returns its error, or a recovered panic, as a malloc'ed
// one-line message; nil when f succeeded.
func call(f func() error) (msg *C.char) {
	defer func() {
		if r := recover(); r != nil {
			msg = cError(fmt.Errorf("internal error: %v", r))
		}
	}()
	if err := f(); err != nil {
		return cError(err)
	}
	return nil
}

// cError is err's message on one line, as the command line prints it.
func cError(err error) *C.char {
	return C.CString(strings.Join(strings.Fields(err.Error()), " "))
}

// handleValue returns the value of type T behind a handle, or an error
// for a handle that is not one (released, or never made here).
func handleValue[T any](h C.uintptr_t, what string) (v T, err error) {
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("%s is closed", what)
		}
	}()
	v, ok := cgo.Handle(h).Value().(T)
	if !ok {
		return v, fmt.Errorf("not a %s handle", what)
	}
	return v, nil
}

// dlnmf_handle_close releases a handle: a model, a separator or a stream.
//
//export dlnmf_handle_close
func dlnmf_handle_close(handle C.uintptr_t) *C.char {
	return call(func() error {
		if _, err := handleValue[any](handle, "handle"); err != nil {
			return err
		}
		cgo.Handle(handle).Delete()
		return nil
	})
}

//export dlnmf_free
func dlnmf_free(p unsafe.Pointer) {
	C.free(p)
}

// doubles views n doubles at p (memory the caller owns) as a slice, valid
// for the call only.
func doubles(p *C.double, n int) []float64 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(p)), n)
}

// floats views n floats at p (memory the caller owns) as a slice, valid for
// the call only.
func floats(p *C.float, n int) []float32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(p)), n)
}

// mallocDoubles copies x into C memory that the caller releases with
// dlnmf_free.
func mallocDoubles(x []float64) *C.double {
	p := (*C.double)(C.malloc(C.size_t(max(len(x), 1) * 8)))
	copy(doubles(p, len(x)), x)
	return p
}

// rows views n*cols doubles at p as n rows of cols samples.
func rows(p *C.double, n, cols int) [][]float64 {
	all := doubles(p, n*cols)
	r := make([][]float64, n)
	for i := range r {
		r[i] = all[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return r
}

// checkSize refuses negative or overflowing sizes before any slice is
// made from them.
func checkSize(dims ...C.int64_t) error {
	total := int64(1)
	for _, d := range dims {
		if d < 0 {
			return fmt.Errorf("negative array size %d", d)
		}
		if d > 0 && total > (1<<40)/int64(d) {
			return fmt.Errorf("array of %v elements is too large", dims)
		}
		total *= int64(d)
	}
	return nil
}
