// Package k8s holds the Kubernetes manifests that run a dlnmf experiment or
// sweep as an Indexed Job (shards.yaml) and its summary (summary.yaml). It
// has no code: its test checks, without a cluster, that the manifests parse
// and carry the fields README.md's "Running on a cluster" relies on.
package k8s
