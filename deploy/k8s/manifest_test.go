package k8s

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"
)

// manifest is the part of a Kubernetes object the docs rely on.
type manifest struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		AccessModes    []string `yaml:"accessModes"`
		CompletionMode string   `yaml:"completionMode"`
		Completions    int      `yaml:"completions"`
		Parallelism    int      `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Command      []string      `yaml:"command"`
					Args         []string      `yaml:"args"`
					VolumeMounts []volumeMount `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []volume `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// volumeMount and volume are a pod's, as the manifests' tests read them.
type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
}

type volume struct {
	Name                  string `yaml:"name"`
	PersistentVolumeClaim struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
	Secret struct {
		SecretName string `yaml:"secretName"`
	} `yaml:"secret"`
}

func readManifests(t *testing.T, name string) []manifest {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	// Only the fields of manifest are read; the rest of the object is
	// Kubernetes' to check, but the whole file must be valid YAML.
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []manifest
	for {
		var m manifest
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, m)
	}
}

// flagValue returns the value after flag in args, or "".
func flagValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// TestShardsManifest: an Indexed Job whose pods run dlnmf with --shard auto
// and --shards equal to its completions, all on one shared volume that the
// PersistentVolumeClaim beside it provides, with -o inside that volume; the
// summary Job runs --summarize on the same folder and volume.
func TestShardsManifest(t *testing.T) {
	ms := readManifests(t, "shards.yaml")
	if len(ms) != 2 || ms[0].Kind != "PersistentVolumeClaim" || ms[1].Kind != "Job" {
		t.Fatalf("shards.yaml: want a PersistentVolumeClaim and a Job, got %+v", ms)
	}
	pvc, job := ms[0], ms[1]
	if !slices.Contains(pvc.Spec.AccessModes, "ReadWriteMany") {
		t.Errorf("the claim %s is not ReadWriteMany: pods on several nodes cannot share it", pvc.Metadata.Name)
	}
	s := job.Spec
	if job.APIVersion != "batch/v1" || s.CompletionMode != "Indexed" || s.Completions < 1 || s.Parallelism < 1 || s.Parallelism > s.Completions {
		t.Errorf("job: apiVersion %q, completionMode %q, completions %d, parallelism %d", job.APIVersion, s.CompletionMode, s.Completions, s.Parallelism)
	}
	out := checkPod(t, "shards.yaml", job, pvc.Metadata.Name)
	args := job.Spec.Template.Spec.Containers[0].Args
	if flagValue(args, "--shard") != "auto" || flagValue(args, "--shards") != strconv.Itoa(s.Completions) {
		t.Errorf("shards.yaml: --shard %q --shards %q, want auto and the completions, %d", flagValue(args, "--shard"), flagValue(args, "--shards"), s.Completions)
	}

	sum := readManifests(t, "summary.yaml")
	if len(sum) != 1 || sum[0].Kind != "Job" {
		t.Fatalf("summary.yaml: want one Job, got %+v", sum)
	}
	if got := checkPod(t, "summary.yaml", sum[0], pvc.Metadata.Name); got != out {
		t.Errorf("summary.yaml writes %s, the shards %s", got, out)
	}
	sargs := sum[0].Spec.Template.Spec.Containers[0].Args
	if !slices.Contains(sargs, "--summarize") || slices.Contains(sargs, "--shard") {
		t.Errorf("summary.yaml args %v: want --summarize and no --shard", sargs)
	}
	// The summary names the same experiment as the shards.
	trim := func(a []string) []string {
		var out []string
		for i := 0; i < len(a); i++ {
			switch a[i] {
			case "--shard", "--shards", "--jobs":
				i++
			case "--summarize":
			default:
				out = append(out, a[i])
			}
		}
		return out
	}
	if !slices.Equal(trim(args), trim(sargs)) {
		t.Errorf("the summary's experiment %v differs from the shards' %v", trim(sargs), trim(args))
	}
}

// checkPod checks a Job's pod: dlnmf with -o inside a volume mounted from
// the claim, restartPolicy Never (the Job retries). It returns the -o folder.
func checkPod(t *testing.T, file string, job manifest, claim string) string {
	t.Helper()
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != "Never" || len(pod.Containers) != 1 {
		t.Fatalf("%s: restartPolicy %q, %d containers", file, pod.RestartPolicy, len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Command, []string{"dlnmf"}) {
		t.Errorf("%s: command %v", file, c.Command)
	}
	out := flagValue(c.Args, "-o")
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.PersistentVolumeClaim.ClaimName == claim && len(out) > len(m.MountPath) && out[:len(m.MountPath)+1] == m.MountPath+"/" {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("%s: -o %q is not inside a volume from the claim %s", file, out, claim)
	}
	return out
}
