package server

import (
	"archive/zip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/report"
	"github.com/dlnmf/dlnmf/scoring"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

//go:embed openapi.json
var openAPI []byte

// handler is an HTTP handler that returns its error, answered by writeError.
type handler func(w http.ResponseWriter, r *http.Request) error

func (srv *Server) handle(pattern string, h handler) {
	srv.patterns = append(srv.patterns, pattern)
	srv.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if srv.s.handling != nil {
			srv.s.handling(pattern, r)
		}
		if err := h(w, r); err != nil {
			srv.writeError(w, err)
		}
	})
}

func (srv *Server) routes() {
	srv.mux = http.NewServeMux()
	srv.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
	srv.handle("GET /metrics", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		queued, running, stored := srv.jobs.counts()
		srv.metrics.write(w, queued, running, len(srv.live), stored)
		return nil
	})
	srv.handle("GET /v1/openapi.json", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
		return nil
	})
	srv.handle("GET /v1/models", func(w http.ResponseWriter, r *http.Request) error {
		list, err := srv.models.list()
		if err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"models": list})
		}
		return err
	})
	srv.handle("GET /v1/models/{name}", srv.downloadModel)
	srv.handle("PUT /v1/models/{name}", srv.uploadModel)
	srv.handle("DELETE /v1/models/{name}", srv.deleteModel)
	srv.handle("GET /v1/speakers", func(w http.ResponseWriter, r *http.Request) error {
		list, err := srv.speakers()
		if err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"speakers": list})
		}
		return err
	})
	srv.handle("POST /v1/speakers/{name}", srv.enrolSpeaker)
	srv.handle("DELETE /v1/speakers/{name}", srv.deleteSpeaker)
	srv.handle("POST /v1/train", srv.train)
	srv.handle("POST /v1/separate", srv.separate)
	srv.handle("GET /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) error {
		j, err := srv.job(r)
		if err == nil {
			writeJSON(w, http.StatusOK, j)
		}
		return err
	})
	srv.handle("GET /v1/jobs/{id}/input", srv.jobAudio)
	srv.handle("GET /v1/jobs/{id}/input/spectrogram.png", srv.jobSpectrogram)
	srv.handle("GET /v1/jobs/{id}/outputs/{source}", srv.jobAudio)
	srv.handle("GET /v1/jobs/{id}/outputs/{source}/spectrogram.png", srv.jobSpectrogram)
	srv.handle("GET /v1/jobs/{id}/outputs.zip", srv.jobZip)
	srv.handle("POST /v1/score", srv.score)
	srv.handle("GET /v1/live", srv.liveStream)
	srv.handle("GET /{$}", srv.page)
	srv.handle("GET /static/{file}", srv.page)
	srv.handle("/", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "no route %s %s (the API is described at /v1/openapi.json)", r.Method, r.URL.Path)
	})
}

// upload is one uploaded file, held in a temporary file of the data folder.
type upload struct {
	file  *os.File
	name  string // the client's file name, or ""
	ext   string // ".wav" or ".flac" for audio
	size  int64
	field string // the multipart field, or "" for a whole body
}

func (u *upload) remove() {
	u.file.Close()
	os.Remove(u.file.Name())
}

func removeAll(us []*upload) {
	for _, u := range us {
		u.remove()
	}
}

// audioTypes are the content types a request whose body is one recording
// may have.
var audioTypes = []string{"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/flac", "audio/x-flac", "application/octet-stream"}

// readUploads saves a request's files: the parts of a multipart/form-data
// body that carry a file, or the whole body when its content type is one of
// types. The caller removes them.
func (srv *Server) readUploads(r *http.Request, types []string) ([]*upload, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, errorf(http.StatusUnsupportedMediaType, "content type %q: %v", r.Header.Get("Content-Type"), err)
	}
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "multipart body: %v", err)
		}
		var out []*upload
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				removeAll(out)
				return nil, badBody(err)
			}
			if p.FileName() == "" {
				continue
			}
			u, err := srv.saveUpload(p, p.FormName(), p.FileName())
			if err != nil {
				removeAll(out)
				return nil, err
			}
			out = append(out, u)
		}
		return out, nil
	}
	if !slices.Contains(types, mt) {
		return nil, errorf(http.StatusUnsupportedMediaType, "content type %q: send %s, or multipart/form-data", mt, strings.Join(types, ", "))
	}
	u, err := srv.saveUpload(r.Body, "", "")
	if err != nil {
		return nil, err
	}
	return []*upload{u}, nil
}

// badBody says why a body could not be read: too large, or cut short.
func badBody(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return err
	}
	return errorf(http.StatusBadRequest, "the request body could not be read whole: %v", err)
}

func (srv *Server) saveUpload(r io.Reader, field, name string) (*upload, error) {
	f, err := os.CreateTemp(filepath.Join(srv.s.Dir, jobsDir), newPrefix+"upload-")
	if err != nil {
		return nil, err
	}
	u := &upload{file: f, name: name, field: field}
	if u.size, err = io.Copy(f, r); err != nil {
		u.remove()
		return nil, badBody(err)
	}
	return u, nil
}

// checkAudio reads an uploaded recording through (all of it when whole is
// set, else its header) and sets its extension; it returns the decoder's
// frames and rate.
func checkAudio(u *upload, whole bool) (frames, rate int, err error) {
	if _, err := u.file.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	rd, err := wav.NewReader(u.file)
	if err != nil {
		return 0, 0, errorf(http.StatusUnprocessableEntity, "%s: %v", u.label(), err)
	}
	u.ext = rd.Format().Ext()
	frames, rate = rd.Frames(), rd.Rate()
	if whole {
		buf := make([]float64, 1<<14)
		for {
			_, err := rd.Read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return 0, 0, errorf(http.StatusUnprocessableEntity, "%s: %v", u.label(), err)
			}
		}
	}
	if frames == 0 {
		return 0, 0, errorf(http.StatusUnprocessableEntity, "%s: the recording is empty", u.label())
	}
	return frames, rate, nil
}

func (u *upload) label() string {
	if u.name != "" {
		return fmt.Sprintf("%q", u.name)
	}
	return "the recording"
}

func (srv *Server) downloadModel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName("model", name); err != nil {
		return err
	}
	f, err := os.Open(srv.models.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, "no model named %q", name)
	} else if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + modelExt}))
	io.Copy(w, f) // an error here is a client that left: nothing can be answered
	return nil
}

func (srv *Server) uploadModel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName("model", name); err != nil {
		return err
	}
	us, err := srv.readUploads(r, []string{"application/octet-stream", "application/x-npz", "application/zip"})
	if err != nil {
		return err
	}
	defer removeAll(us)
	if len(us) != 1 {
		return errorf(http.StatusBadRequest, "send one model file (%d given)", len(us))
	}
	if _, err := separation.Decode(us[0].file, us[0].size); err != nil {
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	if err := atomicfile.Write(srv.models.path(name), func(w io.Writer) error {
		_, err := io.Copy(w, io.NewSectionReader(us[0].file, 0, us[0].size))
		return err
	}); err != nil {
		return err
	}
	srv.models.forget(name)
	info, err := srv.models.info(name)
	if err == nil {
		writeJSON(w, http.StatusCreated, info)
	}
	return err
}

func (srv *Server) deleteModel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName("model", name); err != nil {
		return err
	}
	err := os.Remove(srv.models.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, "no model named %q", name)
	} else if err != nil {
		return err
	}
	srv.models.forget(name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (srv *Server) enrolSpeaker(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName("speaker", name); err != nil {
		return err
	}
	us, err := srv.readUploads(r, audioTypes)
	if err != nil {
		return err
	}
	defer removeAll(us)
	if len(us) == 0 {
		return errorf(http.StatusBadRequest, "send at least one recording")
	}
	for _, u := range us {
		if _, _, err := checkAudio(u, true); err != nil {
			return err
		}
	}
	info, err := srv.enrol(name, us)
	if err == nil {
		writeJSON(w, http.StatusCreated, info)
	}
	return err
}

func (srv *Server) deleteSpeaker(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName("speaker", name); err != nil {
		return err
	}
	srv.speakMu.Lock()
	defer srv.speakMu.Unlock()
	dir := srv.speakerDir(name)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, "no speaker named %q", name)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (srv *Server) train(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "send the request as application/json")
	}
	var req TrainRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return errorf(http.StatusBadRequest, "request body: %v", err)
	}
	if _, err := req.settings(); err != nil {
		return err
	}
	for _, s := range req.Speakers {
		if _, err := srv.speakerFiles(s); err != nil {
			return errorf(http.StatusNotFound, "%v", err)
		}
	}
	j := &Job{Kind: KindTrain, Model: req.Model, Train: &req}
	if err := srv.jobs.submit(j, 0, true, func(string) error { return nil }); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, j)
	return nil
}

func (srv *Server) separate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	model, format := q.Get("model"), q.Get("format")
	if format != "" {
		if _, err := wav.ParseFormat(format); err != nil {
			return errorf(http.StatusBadRequest, "format: %v", err)
		}
	}
	inf, err := inferenceParams(q)
	if err != nil {
		return err
	}
	if _, err := srv.models.separator(model, format, inf); err != nil {
		return err
	}
	us, err := srv.readUploads(r, audioTypes)
	if err != nil {
		return err
	}
	defer removeAll(us)
	if len(us) != 1 {
		return errorf(http.StatusBadRequest, "send one recording (%d given)", len(us))
	}
	u := us[0]
	frames, rate, err := checkAudio(u, false)
	if err != nil {
		return err
	}
	j := &Job{Kind: KindSeparate, Model: model, Format: format, Inference: inf, Input: "input" + u.ext,
		Seconds: float64(frames) / float64(rate), Rate: rate}
	long := j.Seconds > srv.s.ShortSeconds // answered at once, with its id (202)
	if err := srv.jobs.submit(j, u.size, long, func(dir string) error {
		return os.Rename(u.file.Name(), filepath.Join(dir, j.Input))
	}); err != nil {
		return err
	}
	if long {
		w.Header().Set("Location", "/v1/jobs/"+j.ID)
		writeJSON(w, http.StatusAccepted, j)
		return nil
	}
	if err := srv.jobs.wait(r.Context(), j.ID); err != nil {
		return nil // the client left; the job goes on
	}
	done, ok := srv.jobs.get(j.ID)
	if !ok {
		// Removed at once for a newer job's room: the limit of stored
		// bytes is too small for the load.
		return errorf(http.StatusInsufficientStorage, "job %s's results were removed to make room for newer jobs as soon as it finished: the server keeps too few bytes for its load", j.ID)
	}
	if done.State == StateFailed {
		return errorf(http.StatusUnprocessableEntity, "%s", done.Error)
	}
	writeJSON(w, http.StatusOK, done)
	return nil
}

// Inference is how a separation infers the activations, as the query
// parameters bands, coarse_bands, coarse_iters and step_exponent give it
// (separation.SeparateSettings' fields of those names, the last
// NMF.StepExponent); zero values are the server's setting (the model's
// default bands, no coarse start, the usual update, unless its Settings
// say otherwise).
type Inference struct {
	Bands        int     `json:"bands,omitempty"`
	CoarseBands  int     `json:"coarse_bands,omitempty"`
	CoarseIters  int     `json:"coarse_iters,omitempty"`
	StepExponent float64 `json:"step_exponent,omitempty"`
}

// inferenceParams reads the query's Inference, whole numbers and the step
// exponent a number; the library checks the rest when the separator is
// built (modelCache.separator).
func inferenceParams(q url.Values) (Inference, error) {
	var inf Inference
	for _, p := range []struct {
		name string
		to   *int
	}{{"bands", &inf.Bands}, {"coarse_bands", &inf.CoarseBands}, {"coarse_iters", &inf.CoarseIters}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return inf, errorf(http.StatusBadRequest, "%s: give a whole number (%s=%q)", p.name, p.name, v)
		}
		*p.to = n
	}
	if v := q.Get("step_exponent"); v != "" {
		e, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return inf, errorf(http.StatusBadRequest, "step_exponent: give a number (step_exponent=%q)", v)
		}
		inf.StepExponent = e
	}
	return inf, nil
}

// job returns the job named by the request's id.
func (srv *Server) job(r *http.Request) (Job, error) {
	id := r.PathValue("id")
	if !jobIDPattern.MatchString(id) {
		return Job{}, errorf(http.StatusNotFound, "no job %q", id)
	}
	j, ok := srv.jobs.get(id)
	if !ok {
		return Job{}, errorf(http.StatusNotFound, "no job %q (finished jobs expire after %s, or sooner when newer jobs need their room)", id, srv.s.ResultsTTL)
	}
	return j, nil
}

// jobFile returns the path of the recording a request names: the job's
// input, or the estimate of source (path value "source").
func (srv *Server) jobFile(r *http.Request) (j Job, path, title string, err error) {
	if j, err = srv.job(r); err != nil {
		return j, "", "", err
	}
	dir := srv.jobs.folder(j.ID)
	source := r.PathValue("source")
	if source == "" {
		if j.Kind != KindSeparate {
			return j, "", "", errorf(http.StatusNotFound, "job %s has no recording", j.ID)
		}
		return j, filepath.Join(dir, j.Input), "mixture", nil
	}
	if j.State != StateDone {
		return j, "", "", errorf(http.StatusConflict, "job %s is %s: its outputs are not there", j.ID, j.State)
	}
	for _, o := range j.Outputs {
		if o.Source == source {
			return j, filepath.Join(dir, outDir, o.File), source, nil
		}
	}
	return j, "", "", errorf(http.StatusNotFound, "job %s has no source %q", j.ID, source)
}

func audioType(path string) string {
	if strings.EqualFold(filepath.Ext(path), ".flac") {
		return "audio/flac"
	}
	return "audio/wav"
}

func (srv *Server) jobAudio(w http.ResponseWriter, r *http.Request) error {
	_, path, _, err := srv.jobFile(r)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", audioType(path))
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	http.ServeContent(w, r, filepath.Base(path), fi.ModTime(), f)
	return nil
}

// jobSpectrogram draws a recording's spectrogram once (written atomically
// beside it) and serves it.
func (srv *Server) jobSpectrogram(w http.ResponseWriter, r *http.Request) error {
	j, path, title, err := srv.jobFile(r)
	if err != nil {
		return err
	}
	png := filepath.Join(srv.jobs.folder(j.ID), "spectrogram."+title+".png")
	if _, err := os.Stat(png); err != nil {
		rd, err := wav.Open(path)
		if err != nil {
			return err
		}
		cw := &countWriter{}
		err = atomicfile.Write(png, func(w io.Writer) error {
			cw.w = w
			return report.SpectrogramPNGFrom(cw, rd.Read, rd.Frames(), rd.Rate(), title, report.Levels{})
		})
		rd.Close()
		if err != nil {
			return err
		}
		srv.jobs.grew(j.ID, cw.n)
	}
	w.Header().Set("Content-Type", "image/png")
	http.ServeFile(w, r, png)
	return nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func (srv *Server) jobZip(w http.ResponseWriter, r *http.Request) error {
	j, err := srv.job(r)
	if err != nil {
		return err
	}
	if j.Kind != KindSeparate || j.State != StateDone {
		return errorf(http.StatusConflict, "job %s is a %s job, %s: it has no outputs to zip", j.ID, j.Kind, j.State)
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": j.ID + ".zip"}))
	zw := zip.NewWriter(w)
	for _, o := range j.Outputs {
		f, err := os.Open(filepath.Join(srv.jobs.folder(j.ID), outDir, o.File))
		if err != nil {
			return err
		}
		zf, err := zw.CreateHeader(&zip.FileHeader{Name: o.Source + filepath.Ext(o.File), Method: zip.Store})
		if err == nil {
			_, err = io.Copy(zf, f)
		}
		f.Close()
		if err != nil {
			return nil // the client left, or the headers are out: nothing can be answered
		}
	}
	zw.Close()
	return nil
}

// Scores is the answer of POST /v1/score, in dB, indexed by reference: the
// scores dlnmf eval gives, with the improvements over the mixture when
// one is sent.
type Scores = scoring.Scores

func (srv *Server) score(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return errorf(http.StatusUnsupportedMediaType, "send the references and estimates as multipart/form-data files named reference and estimate")
	}
	us, err := srv.readUploads(r, nil)
	if err != nil {
		return err
	}
	defer removeAll(us)
	var refs, ests [][]float64
	var mix []float64
	rate := 0
	for _, u := range us {
		if u.field != "reference" && u.field != "estimate" && u.field != "mixture" {
			return errorf(http.StatusBadRequest, "unknown field %q: files are named reference, estimate or mixture", u.field)
		}
		if _, err := u.file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		a, err := wav.Decode(u.file)
		if err != nil {
			return errorf(http.StatusUnprocessableEntity, "%s: %v", u.label(), err)
		}
		if rate != 0 && a.Rate != rate {
			return errorf(http.StatusUnprocessableEntity, "%s is at %d Hz, the files before it at %d Hz: score signals at one rate", u.label(), a.Rate, rate)
		}
		rate = a.Rate
		switch u.field {
		case "reference":
			refs = append(refs, a.Mono())
		case "estimate":
			ests = append(ests, a.Mono())
		default:
			if mix != nil {
				return errorf(http.StatusBadRequest, "send one mixture")
			}
			mix = a.Mono()
		}
	}
	res, err := scoring.Whole(refs, ests, mix, r.URL.Query().Get("permute") != "false")
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
