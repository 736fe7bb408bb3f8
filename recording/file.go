package recording

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/wav"
)

// Stdin is the name by which a recording read from standard input is
// given: its outputs are named after StdinBase.
const (
	Stdin     = "-"
	StdinBase = "stdin"
)

// Outputs say where SeparateFile writes a recording's estimates.
type Outputs struct {
	// Dir is the folder of the files OutputName names, one per source;
	// "" for none (then Stream must be set).
	Dir string
	// Stream, when not nil, receives the estimate of the source named
	// StreamSource as a WAV or FLAC stream. A stream cannot be taken
	// back: on an error it stops short of the length its header
	// announced, which readers report as truncated.
	Stream       io.Writer
	StreamSource string
}

// Result is what SeparateFile did with one recording.
type Result struct {
	Input    string   `json:"input"`
	Outputs  []string `json:"outputs,omitempty"`  // the files written, in the order of Sources
	Clipped  int      `json:"clipped_samples"`    // PCM samples beyond full scale, clipped
	Channels int      `json:"channels,omitempty"` // of the recording, down-mixed when above 1
	Rate     int      `json:"sample_rate,omitempty"`
	// Padded, when set, says that the recording has fewer frames than
	// the model's patch width and was padded (a warning for the user).
	Padded string `json:"padded,omitempty"`
}

// OutputName returns the file name of source's estimate of the recording
// at path: <base>.<source><ext>, base the file name without its extension
// (StdinBase for Stdin), ext that of container f.
func OutputName(path, source string, f wav.Format) string {
	base := StdinBase
	if path != Stdin {
		base = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return base + "." + source + f.Ext()
}

// OutputFormat returns the container of the outputs of the recording at
// path for a Separator without a Format setting: FLAC for a .flac name,
// WAV otherwise (the container is known for certain once the recording is
// open; this is for naming outputs before it is, as Collisions and
// Done do).
func (sp *Separator) OutputFormat(path string) wav.Format {
	if sp.formatOK {
		return sp.format
	}
	if strings.EqualFold(filepath.Ext(path), ".flac") {
		return wav.FLAC
	}
	return wav.WAV
}

// Collisions returns an error naming two recordings whose outputs in one
// folder would have the same names (sub/mix.wav and other/mix.wav;
// mix.wav and mix.flac with the outputs in one container), nil if there
// are none.
func (sp *Separator) Collisions(paths []string) error {
	seen := map[string]string{}
	for _, p := range paths {
		name := strings.ToLower(OutputName(p, sp.Sources()[0], sp.OutputFormat(p)))
		if q, ok := seen[name]; ok && q != p {
			return fmt.Errorf("%s and %s would write the same outputs (%s, ...): separate them into different folders", q, p, OutputName(p, sp.Sources()[0], sp.OutputFormat(p)))
		}
		seen[name] = p
	}
	return nil
}

// Done reports whether every output of the recording at path is in dir,
// for resuming an archive.
func (sp *Separator) Done(path, dir string) bool {
	for _, s := range sp.Sources() {
		if _, err := os.Stat(filepath.Join(dir, OutputName(path, s, sp.OutputFormat(path)))); err != nil {
			return false
		}
	}
	return true
}

// SeparateFile separates the recording at path (Stdin: r) and writes its
// estimates as o says. It streams: the recording is decoded, separated and
// encoded block by block, so memory does not grow with its length. The
// output files appear only when all of them are complete; on any error
// none is left behind. Every error names the recording.
func (sp *Separator) SeparateFile(path string, r io.Reader, o Outputs) (res *Result, err error) {
	name := path
	if path == Stdin {
		name = "standard input"
	}
	defer func() {
		if err != nil && !strings.HasPrefix(err.Error(), name) {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}()
	var in *wav.Reader
	if path == Stdin {
		if r == nil {
			return nil, errors.New("no standard input")
		}
		in, err = wav.NewReader(r)
	} else {
		in, err = wav.Open(path)
	}
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return sp.separateReader(in, path, o)
}

func (sp *Separator) separateReader(in *wav.Reader, path string, o Outputs) (res *Result, err error) {
	if o.Dir == "" && o.Stream == nil {
		return nil, errors.New("recording: Outputs name neither a folder nor a stream")
	}
	rate, n := in.Rate(), in.Frames()
	j, err := sp.newJob(n, rate)
	if err != nil {
		return nil, err
	}
	sources := j.sep.Sources()
	streamSource := -1
	if o.Stream != nil {
		for i, s := range sources {
			if s == o.StreamSource {
				streamSource = i
			}
		}
		if streamSource < 0 {
			return nil, fmt.Errorf("the model has no source %s (it has %s)", o.StreamSource, strings.Join(sources, ", "))
		}
	}
	format, enc := sp.outputFormat(in.Format(), in.Encoding())
	outs := make([]*wav.Writer, len(sources))
	var names []string
	var stream *wav.Writer
	defer func() {
		if err != nil {
			for _, w := range outs {
				if w != nil {
					w.Abort()
				}
			}
		}
	}()
	if o.Dir != "" {
		for i := range outs {
			name, err := atomicfile.Inside(o.Dir, OutputName(path, sources[i], format))
			if err != nil {
				return nil, err
			}
			if outs[i], err = wav.CreateFormat(name, format, rate, enc, n); err != nil {
				return nil, err
			}
			names = append(names, name)
		}
	}
	if o.Stream != nil {
		if stream, err = wav.NewFormatWriter(o.Stream, format, rate, enc, n); err != nil {
			return nil, fmt.Errorf("standard output: %w", err)
		}
	}
	err = j.run(in.Read, func(i int, y []float64) error {
		if i == streamSource {
			if err := stream.Write(y); err != nil {
				return err
			}
		}
		if outs[i] == nil {
			return nil
		}
		return outs[i].Write(y)
	})
	if err != nil {
		return nil, err
	}
	res = &Result{Input: path, Channels: in.Channels(), Rate: rate, Padded: j.padded}
	for _, w := range outs {
		if w != nil {
			res.Clipped += w.Clipped()
		}
	}
	if stream != nil {
		if outs[streamSource] == nil {
			res.Clipped += stream.Clipped()
		}
		if err = stream.Close(); err != nil {
			return nil, fmt.Errorf("standard output: %w", err)
		}
	}
	// Commit all outputs together; if one fails, remove those already in
	// place, so a recording never gets part of its outputs.
	for i, w := range outs {
		if w == nil {
			continue
		}
		if err = w.Close(); err != nil {
			for _, name := range names[:i] {
				os.Remove(name)
			}
			return nil, err
		}
	}
	res.Outputs = names
	return res, nil
}
