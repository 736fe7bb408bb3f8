package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainFileLists checks --speaker NAME=@LIST and --exclude GLOB: the
// summary counts only the files named and not excluded.
func TestTrainFileLists(t *testing.T) {
	root := t.TempDir()
	_, high := synthSpeakers(t, root, 5, 0.5)
	lists := filepath.Join(root, "lists")
	os.MkdirAll(lists, 0o755)
	list := filepath.Join(lists, "low.txt")
	os.WriteFile(list, []byte("# held out: low03, low04\n../low/low00.wav\n\n  ../low/low01.wav  \n"+filepath.Join(root, "low", "low02.wav")+"\n"), 0o644)
	out := filepath.Join(t.TempDir(), "m.npz")
	args := append(trainArgs("nmf", out, "low=@"+list, high), "--json", "--exclude", "high0[01].wav", "--exclude", "*/nothing/*")
	stdout, stderr, code := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Speakers) != 2 || sum.Speakers[0].Files != 3 || sum.Speakers[1].Files != 3 {
		t.Errorf("speakers %+v; want 3 files each", sum.Speakers)
	}

	empty := filepath.Join(lists, "empty.txt")
	os.WriteFile(empty, []byte("# nothing\n\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{trainArgs("nmf", out, "low=@"+empty, high), exitFailure, []string{"empty.txt", "names no files"}},
		{trainArgs("nmf", out, "low=@"+filepath.Join(lists, "missing.txt"), high), exitFailure, []string{"missing.txt"}},
		{append(trainArgs("nmf", out, "low=@"+list, high), "--exclude", "low*"), exitFailure, []string{"speaker low", "no files left", "low*"}},
		{append(trainArgs("nmf", out, "low=@"+list, high), "--exclude", "[x"), exitUsage, []string{"bad pattern"}},
		{trainArgs("nmf", out, "low=@"+filepath.Join(lists, "low.txt"), "high=@"+filepath.Join(root, "high", "high00.wav")), exitFailure, []string{"speaker high"}},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		wantFailure(t, stderr, code, tc.code, tc.want...)
	}
}

func TestSpeakerHelpDocumentsLists(t *testing.T) {
	if !strings.Contains(speakerHelp, "@LIST") {
		t.Error("speakerHelp does not document lists")
	}
}
