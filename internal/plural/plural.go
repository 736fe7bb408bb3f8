// Package plural writes counts of things in English: "1 speaker", "2
// speakers".
package plural

import "strconv"

// Count returns n and the noun, in its plural (the noun and an "s") unless
// n is 1: Count(1, "speaker") is "1 speaker", Count(0, "file") "0 files".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
