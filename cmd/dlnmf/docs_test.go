package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/internal/sharedcorpus"
)

// repoFile reads a file of the repository by its path from the root.
func repoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tableRow returns the cells of the first row of a markdown table in text
// that starts with the given cells, e.g. "NMF", "K=20"; only each cell's
// first word (the mean of "6.58 ± 0.27").
func tableRow(t *testing.T, text, name string, first ...string) []string {
	t.Helper()
	prefix := "| " + strings.Join(first, " | ") + " |"
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			var cells []string
			for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
				cells = append(cells, strings.Fields(c)[0])
			}
			return cells
		}
	}
	t.Fatalf("%s has no table row %q", name, prefix)
	return nil
}

// The protocol document is the project's own (docs/protocol.md), and the
// README, the package docs and "dlnmf experiment -h" point to it, never to
// the ../shared copy that a clone does not have.
func TestProtocolDocReferenced(t *testing.T) {
	doc := repoFile(t, "docs/protocol.md")
	for _, want := range []string{"What the paper leaves open", "Table 1", "| window |", "| DL-NMF rounds |", "| mixing level |", "| BSS Eval version |"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/protocol.md does not have %q", want)
		}
	}
	out, _, _ := runCmd(t, "experiment", "-h")
	if !strings.Contains(out, "docs/protocol.md") {
		t.Errorf("dlnmf experiment -h does not point to docs/protocol.md:\n%s", out)
	}
	for _, f := range []string{"README.md", "docs/RESULTS.md", "experiment/doc.go", "stft/doc.go", "resample/doc.go"} {
		if !strings.Contains(repoFile(t, f), "docs/protocol.md") {
			t.Errorf("%s does not point to docs/protocol.md", f)
		}
	}
	root := filepath.Join("..", "..")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), "shared/docs/protocol.md") && !strings.HasSuffix(path, "docs_test.go") {
			t.Errorf("%s points to ../shared/docs/protocol.md, which a clone does not have", path)
		}
		return nil
	})
}

// docs/protocol.md quotes the paper's Table 1 exactly (checked against the
// paper's text where it is at hand).
func TestProtocolDocTable1(t *testing.T) {
	root, _ := sharedcorpus.Root()
	paperPath := filepath.Join(root, "..", "shared", "paper", "dlnmf-paper.txt")
	paper, err := os.ReadFile(paperPath)
	if err != nil {
		t.Skipf("skipping: the paper's text %s is absent (it sits beside the repository only on the project's machines)", paperPath)
	}
	doc := repoFile(t, "docs/protocol.md")
	// The paper's rows: "K=10 6.76 10.34 ..." under NMF, then
	// "K1=180, K2=10 7.26 ..." under L-NMF and again under DL-NMF.
	nums := regexp.MustCompile(`(?m)^(K=\d+|K1=180, K2=\d+) ((?:\d+\.\d+ ?){6})$`).FindAllStringSubmatch(string(paper), -1)
	if len(nums) != 9 {
		t.Fatalf("found %d rows of Table 1 in the paper, want 9", len(nums))
	}
	for i, m := range nums {
		method := []string{"NMF", "L-NMF", "DL-NMF"}[i/3]
		bases := strings.ReplaceAll(strings.TrimPrefix(m[1], "K1="), ", K2=", ",")
		got := tableRow(t, doc, "docs/protocol.md", method, bases)[2:]
		if want := strings.Fields(m[2]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s %s: docs/protocol.md has %v, the paper %v", method, bases, got, want)
		}
	}
}

// The demo's line about the full run quotes docs/RESULTS.md and the paper's
// Table 1 (as docs/protocol.md has it) correctly.
func TestDemoFullRunQuote(t *testing.T) {
	results := repoFile(t, "docs/RESULTS.md")
	doc := repoFile(t, "docs/protocol.md")
	var ours, paper []string
	for _, r := range [][]string{{"NMF", "K=20"}, {"L-NMF", "180,20"}, {"DL-NMF", "180,20"}} {
		c := tableRow(t, results, "docs/RESULTS.md", r...) // the TSP table comes first
		ours = append(ours, r[0]+" "+c[2]+" / "+c[5])
		p := tableRow(t, doc, "docs/protocol.md", r...)
		paper = append(paper, p[2]+" / "+p[5])
	}
	want := []string{strings.Join(ours, ", "), "Table 1: " + strings.Join(paper, ", ")}
	for _, w := range want {
		if !strings.Contains(demoFullRun, w) {
			t.Errorf("the demo's full-run line does not say %q:\n%s", w, demoFullRun)
		}
	}
}
