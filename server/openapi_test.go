package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIListsEveryRoute: /v1/openapi.json describes every route the
// mux serves, with its method, and nothing it does not serve.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	srv, ts := newTestServer(t, Settings{})
	code, h, b := do(t, "GET", ts.URL+"/v1/openapi.json", "", nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %s", code, h.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	decodeJSON(t, b, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	var served []string
	for _, p := range srv.patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			continue // the catch-all answering 404
		}
		path = strings.TrimSuffix(path, "{$}")
		served = append(served, strings.ToLower(method)+" "+path)
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not in openapi.json", p)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			if !slices.Contains(served, method+" "+path) {
				t.Errorf("openapi.json describes %s %s, which the server does not serve", strings.ToUpper(method), path)
			}
		}
	}
	if len(served) < 20 {
		t.Errorf("only %d routes found: %q", len(served), served)
	}
}
