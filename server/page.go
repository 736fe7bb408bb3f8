package server

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
)

// web holds the page: plain HTML, CSS and JavaScript, nothing fetched from
// elsewhere, so it works offline.
//
//go:embed web
var web embed.FS

// page serves the page at / and its files under /static/.
func (srv *Server) page(w http.ResponseWriter, r *http.Request) error {
	name := "index.html"
	if f := r.PathValue("file"); f != "" {
		name = f
	}
	b, err := fs.ReadFile(web, path.Join("web", name))
	if err != nil {
		return errorf(http.StatusNotFound, "no file %s", r.URL.Path)
	}
	types := map[string]string{".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
	w.Header().Set("Content-Type", types[path.Ext(name)])
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self' blob: ws: wss:")
	w.Write(b)
	return nil
}
