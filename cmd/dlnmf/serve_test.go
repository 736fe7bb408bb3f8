package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dlnmf/dlnmf/server"
)

// TestServeNeedsTokenBeyondLoopback: listening beyond loopback without
// --token-file is a usage error; a token file must hold one word.
func TestServeNeedsTokenBeyondLoopback(t *testing.T) {
	data := t.TempDir()
	_, stderr, code := runCmd(t, "serve", "--addr", "0.0.0.0:0", "--data", data)
	wantFailure(t, stderr, code, exitUsage, "not loopback", "token file")
	empty := filepath.Join(t.TempDir(), "token")
	os.WriteFile(empty, []byte("two words\n"), 0o600)
	_, stderr, code = runCmd(t, "serve", "--addr", "0.0.0.0:0", "--data", data, "--token-file", empty)
	wantFailure(t, stderr, code, exitFailure, "one word")
	_, stderr, code = runCmd(t, "serve", "--queue", "0")
	wantFailure(t, stderr, code, exitUsage, "--queue")
	_, stderr, code = runCmd(t, "serve", "--store-bytes", "0")
	wantFailure(t, stderr, code, exitUsage, "--store-bytes")
}

// TestServeFlagsBindSettings: the limits' flags land in server.Settings,
// whose defaults they show.
func TestServeFlagsBindSettings(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := bindServeFlags(fs)
	if f.settings.StoreBytes != server.DefaultStoreBytes || f.settings.QueueBytes != server.DefaultQueueBytes {
		t.Errorf("defaults: store %d, queue %d bytes", f.settings.StoreBytes, f.settings.QueueBytes)
	}
	if err := fs.Parse([]string{"--store-bytes", "12345", "--queue-bytes", "678"}); err != nil {
		t.Fatal(err)
	}
	if f.settings.StoreBytes != 12345 || f.settings.QueueBytes != 678 {
		t.Errorf("--store-bytes 12345 --queue-bytes 678 gave %d and %d", f.settings.StoreBytes, f.settings.QueueBytes)
	}
}

// TestServeRunsAndStops: serve answers on the address it logs and stops
// cleanly (exit 0) when its context ends, as on SIGTERM.
func TestServeRunsAndStops(t *testing.T) {
	r, w := io.Pipe()
	env := &environment{stdout: io.Discard, stderr: w}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- runMain(ctx, env, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--grace", "1s"})
		w.Close()
	}()
	lines := bufio.NewScanner(r)
	var url string
	for url == "" && lines.Scan() {
		if m := regexp.MustCompile(`url=(http://\S+/)`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, r)
	if url == "" {
		t.Fatalf("serve logged no url; exit %d", <-exit)
	}
	resp, err := http.Get(url + "healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-exit; code != exitOK {
		t.Errorf("exit %d after the context ended", code)
	}
}

// TestServeManifestFlags: deploy/k8s/serve.yaml runs dlnmf serve with
// flags serve has, and values it accepts, beyond loopback with a token.
func TestServeManifestFlags(t *testing.T) {
	b, err := os.ReadFile("../../deploy/k8s/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var obj struct {
			Kind string
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct{ Args []string }
					}
				}
			}
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Kind == "Deployment" {
			args = obj.Spec.Template.Spec.Containers[0].Args
		}
	}
	if len(args) < 2 || args[0] != "serve" {
		t.Fatalf("the Deployment runs %q, not dlnmf serve", args)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := bindServeFlags(fs)
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		t.Fatalf("serve.yaml's arguments %q: %v (%d left over)", args[1:], err, fs.NArg())
	}
	if err := server.CheckAddr(f.addr, f.tokenFile != ""); err != nil || !slices.Contains(args, "--token-file") {
		t.Errorf("serve.yaml: %v", err)
	}
}
