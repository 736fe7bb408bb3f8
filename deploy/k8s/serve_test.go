package k8s

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// serveObject is the part of serve.yaml's objects the docs rely on.
type serveObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas    int      `yaml:"replicas"`
		AccessModes []string `yaml:"accessModes"`
		Ports       []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
					Ports   []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					ReadinessProbe struct {
						HTTPGet struct {
							Path string `yaml:"path"`
						} `yaml:"httpGet"`
					} `yaml:"readinessProbe"`
					VolumeMounts []volumeMount `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []volume `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// TestServeManifest: a Deployment running dlnmf serve on all interfaces
// with a token file from a Secret and its data folder on the claim beside
// it, probed at /healthz, given longer than --grace to stop; a Service on
// its port. (cmd/dlnmf's tests check that the arguments are serve's flags.)
func TestServeManifest(t *testing.T) {
	b, err := os.ReadFile("serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var objs []serveObject
	docs := strings.Split(string(b), "\n---\n")
	for _, doc := range docs {
		var o serveObject
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("serve.yaml: %v", err)
		}
		objs = append(objs, o)
	}
	if len(objs) != 3 || objs[0].Kind != "PersistentVolumeClaim" || objs[1].Kind != "Deployment" || objs[2].Kind != "Service" {
		t.Fatalf("serve.yaml: want a PersistentVolumeClaim, a Deployment and a Service")
	}
	pvc, dep, svc := objs[0], objs[1], objs[2]
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Command, []string{"dlnmf"}) || len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Errorf("command %v %v: want dlnmf serve", c.Command, c.Args)
	}
	addr := flagValue(c.Args, "--addr")
	if len(c.Ports) != 1 || !strings.HasSuffix(addr, ":"+strconv.Itoa(c.Ports[0].ContainerPort)) {
		t.Errorf("--addr %q, container ports %+v", addr, c.Ports)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("readiness probe %q: /healthz needs no token", c.ReadinessProbe.HTTPGet.Path)
	}
	mountOf := func(path string) (volume string) {
		for _, m := range c.VolumeMounts {
			if strings.HasPrefix(path, m.MountPath+"/") || path == m.MountPath {
				return m.Name
			}
		}
		return ""
	}
	for _, v := range pod.Volumes {
		switch v.Name {
		case mountOf(flagValue(c.Args, "--data")):
			if v.PersistentVolumeClaim.ClaimName != pvc.Metadata.Name {
				t.Errorf("--data is on volume %s, not the claim %s", v.Name, pvc.Metadata.Name)
			}
		case mountOf(flagValue(c.Args, "--token-file")):
			if v.Secret.SecretName == "" {
				t.Errorf("--token-file is on volume %s, not a Secret", v.Name)
			}
		}
	}
	if mountOf(flagValue(c.Args, "--data")) == "" || mountOf(flagValue(c.Args, "--token-file")) == "" {
		t.Errorf("--data %q or --token-file %q is not on a mounted volume", flagValue(c.Args, "--data"), flagValue(c.Args, "--token-file"))
	}
	if dep.Spec.Replicas != 1 || !slices.Equal(pvc.Spec.AccessModes, []string{"ReadWriteOnce"}) {
		t.Errorf("replicas %d on a %v claim: one server owns one data folder", dep.Spec.Replicas, pvc.Spec.AccessModes)
	}
	if grace := flagValue(c.Args, "--grace"); grace != "60s" || pod.TerminationGracePeriodSeconds <= 60 {
		t.Errorf("--grace %s, terminationGracePeriodSeconds %d: Kubernetes must wait longer than the server's grace", grace, pod.TerminationGracePeriodSeconds)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != c.Ports[0].Name {
		t.Errorf("service ports %+v do not target the container's port %q", svc.Spec.Ports, c.Ports[0].Name)
	}
	var service struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(docs[2]), &service); err != nil {
		t.Fatal(err)
	}
	labels := dep.Spec.Template.Metadata.Labels
	for k, v := range service.Spec.Selector {
		if labels[k] != v {
			t.Errorf("the service selects %s=%s; the pods are labelled %v", k, v, labels)
		}
	}
	if len(service.Spec.Selector) == 0 {
		t.Error("the service selects no pods")
	}
}
