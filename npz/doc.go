// Package npz reads and writes NumPy's .npz archives: a zip file of .npy
// arrays, the format numpy.savez writes and numpy.load opens.
//
// Only what dlnmf's model files need is supported, little-endian and in C
// order: float32 ('<f4') and float64 ('<f8') arrays of any shape, and unicode
// strings ('<U', stored as a 0-d array, which numpy.load returns as a 0-d
// str array; str(a) gives the text). Reading checks every header and length,
// so a truncated or corrupt file yields an error, never a panic or a huge
// allocation. Open and Archive.Header read an array's dtype and shape
// without its data, so that a caller refuses a shape it does not expect
// before anything is sized from it; Archive.Array then decodes the values
// as they are decompressed (Read does both for every array).
package npz
