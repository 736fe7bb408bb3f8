// Package csvtext makes text cells of CSV files safe to open in a
// spreadsheet.
//
// A spreadsheet reads a cell that starts with =, +, - or @ as a formula
// (and a tab or carriage return before one as well), so a file named
// "=cmd|' /C calc'!A0.wav" written verbatim into a CSV file runs when the
// file is opened: CSV injection. Cell prefixes such a text with a single
// quote, as OWASP recommends ("CSV Injection"), which the spreadsheet shows
// as text and does not display. Numbers are written as they are: only
// cells that hold names from input (files, folders, items) go through
// Cell.
package csvtext

// Cell returns s as a CSV cell a spreadsheet shows as text: s itself, or
// s after a single quote when it starts with =, +, -, @, a tab or a
// carriage return.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Cells applies Cell to every s, in place, and returns them.
func Cells(s ...string) []string {
	for i := range s {
		s[i] = Cell(s[i])
	}
	return s
}
