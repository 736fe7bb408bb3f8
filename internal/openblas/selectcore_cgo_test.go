//go:build cgo && !noopenblas

package openblas

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// selectCoreChild is the environment variable that makes TestMain of a
// child test process switch OpenBLAS's kernels before any BLAS call, as
// init does when CoreTypeHint asks for it.
const selectCoreChild = "DLNMF_TEST_SELECT_CORE"

func TestMain(m *testing.M) {
	if name := os.Getenv(selectCoreChild); name != "" {
		if !selectCore(name) {
			os.Stderr.WriteString("selectCore: this OpenBLAS has no dynamic kernel choice\n")
			os.Exit(3)
		}
	}
	os.Exit(m.Run())
}

// The kernels are switched in process, with no variable set for OpenBLAS:
// the child reports the table asked for, and its products still agree with
// the naive ones. Haswell's kernels need AVX2 only, so the switch can be
// checked on any machine that has it (SkylakeX, the table init selects on
// the processors that need it, would not run on one without AVX-512).
func TestSelectCoreInProcess(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("Haswell's kernels need AVX2 and FMA")
	}
	if os.Getenv(selectCoreChild) != "" {
		if got := CoreName(); got != "Haswell" {
			t.Fatalf("after selectCore(Haswell) OpenBLAS runs %q", got)
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^(TestSelectCoreInProcess|TestGemmAgreesWithNaiveProduct)$", "-test.v")
	cmd.Env = append(os.Environ(), selectCoreChild+"=Haswell")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code == 3 {
		t.Skipf("%s", out)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "BLAS kernels: Haswell") {
		t.Fatalf("the child's products ran on other kernels:\n%s", out)
	}
}
