// Package nbrun executes Jupyter notebooks headlessly with the GoNB kernel (via
// `jupyter nbconvert --execute`) and fails on any error output.
//
// nbconvert by itself is not enough: it fails on compile errors (GoNB reports them to Jupyter
// as errors), but GoNB reports a panic, an os.Exit(n) or a failing `!cmd` only as text on the
// cell's stderr ("panic: ...", "exit status N"), and nbconvert succeeds. Run therefore scans
// the executed notebook with Scan.
//
// Requirements (installed by scripts/setup.sh): Debian's jupyter-nbconvert and
// jupyter-client (/usr/bin/jupyter), gonb v0.11.1 and goimports in $(go env GOPATH)/bin, and
// the "gonb" kernel spec.
package nbrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confcal/confcal/confcal/nbutil"
)

// KernelName is the Jupyter kernel spec used to execute notebooks.
const KernelName = "gonb"

// DefaultTimeout is the per-cell timeout used when Options.Timeout is zero.
const DefaultTimeout = 20 * time.Minute

// Options configure Run.
type Options struct {
	// Timeout is the limit for each cell's execution (including GoNB's build of the cell);
	// DefaultTimeout if zero. It is passed to nbconvert in whole seconds.
	Timeout time.Duration
	// Env holds extra environment variables (KEY=VALUE) for nbconvert and so for the kernel
	// and the cells' programs. They override the inherited ones.
	Env []string
	// OutputPath is where the executed notebook is written; a new temporary file if empty.
	// ".ipynb" is appended when it has another extension (nbconvert insists on it).
	OutputPath string
}

// Result of Run.
type Result struct {
	// ExecutedPath is the executed notebook, or "" when nbconvert wrote none (it does not
	// when a cell fails, e.g. on a compile error).
	ExecutedPath string
	// Cells is the number of code cells; Images the number of outputs with an "image/png",
	// HTML the number with "text/html" (GoNB's SVG and most plots are HTML).
	Cells, Images, HTML int
	// Problems found by Scan, plus one of kind "nbconvert" when nbconvert failed.
	Problems []Problem
	// Stderr is nbconvert's own output (stderr and stdout), which includes the kernel's log.
	Stderr string
}

// Run executes notebook with the GoNB kernel: `jupyter nbconvert --to notebook --execute`,
// in the notebook's directory (GoNB sets GONB_DIR to it), with $(go env GOPATH)/bin (or
// GOBIN), the Go toolchain's bin and /usr/bin first on PATH, TMPDIR set to a directory of its
// own (removed afterwards), NBRUN_RUN_ID and CONFCAL_HEADLESS=1 (nbutil.HeadlessEnv) set, and then
// opt.Env (which may override these).
//
// It returns an error when nbconvert fails or Scan finds problems (with the Result, when
// there is one); the error lists the problems. nbconvert stops at the first cell that
// reports an error to Jupyter (e.g. a compile error) and then writes no executed notebook;
// after a panic or a non-zero exit it goes on with the next cells.
//
// Cancelling ctx interrupts nbconvert, which shuts the kernel down; whatever of the run is
// still running when Run returns (on Linux) is terminated.
func Run(ctx context.Context, notebook string, opt Options) (*Result, error) {
	e := detect()
	if e.err != nil {
		return nil, e.err
	}
	nbPath, err := filepath.Abs(notebook)
	if err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	input, err := os.ReadFile(nbPath)
	if err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	inputNB, err := parseNotebook(input)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, nbPath)
	}

	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	seconds := max(1, int(math.Ceil(timeout.Seconds())))

	outPath := opt.OutputPath
	if outPath == "" {
		f, err := os.CreateTemp("", "nbrun-"+strings.TrimSuffix(filepath.Base(nbPath), ".ipynb")+"-*.ipynb")
		if err != nil {
			return nil, fmt.Errorf("nbrun: %w", err)
		}
		outPath = f.Name()
		_ = f.Close()
	}
	if outPath, err = filepath.Abs(outPath); err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	if filepath.Ext(outPath) != ".ipynb" {
		outPath += ".ipynb"
	}
	// A stale file must not pass for this run's result.
	if err := os.Remove(outPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}

	args := []string{
		"nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.kernel_name=" + KernelName,
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", seconds),
		nbPath,
		// nbconvert 6.5.3: --output is a base name, relative to --output-dir.
		"--output-dir", filepath.Dir(outPath),
		"--output", filepath.Base(outPath),
	}
	cmd := exec.CommandContext(ctx, e.jupyter, args...)
	cmd.Dir = filepath.Dir(nbPath)
	// The marker identifies this run's processes (nbconvert, the kernel, the cells' programs
	// inherit it), for sweep to stop what nbconvert could not.
	marker := NewMarker()
	// A private TMPDIR: GoNB keeps its per-kernel module (GONB_TMP_DIR) and the cells' named
	// pipes under it, and leaves them behind when the kernel is stopped mid-cell.
	tmpDir, err := os.MkdirTemp("", "nbrun-tmp-")
	if err != nil {
		return nil, fmt.Errorf("nbrun: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmpDir) }()
	// No browser: nbutil.FrontEnd answers false at once instead of waiting for one.
	base := []string{"PATH=" + e.path, "TMPDIR=" + tmpDir, marker, nbutil.HeadlessEnv + "=1"}
	cmd.Env = mergeEnv(os.Environ(), append(base, opt.Env...))
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	setCancel(cmd)
	cmd.WaitDelay = 15 * time.Second // After cancelling: then nbconvert is killed.
	runErr := cmd.Run()
	sweep(marker)

	res := &Result{Stderr: output.String()}
	if data, err := os.ReadFile(outPath); err == nil && len(data) > 0 {
		res.ExecutedPath = outPath
		var problems []Problem
		res.Cells, res.Images, res.HTML, problems, err = Scan(data)
		if err != nil {
			return res, fmt.Errorf("nbrun: executed notebook %s: %w", outPath, err)
		}
		res.Problems = append(res.Problems, problems...)
	} else if opt.OutputPath == "" {
		_ = os.Remove(outPath)
	}
	if runErr != nil {
		p := nbconvertProblem(res.Stderr, inputNB)
		if ctx.Err() != nil {
			p.Text = fmt.Sprintf("cancelled (%v)\n%s", context.Cause(ctx), p.Text)
		}
		res.Problems = append([]Problem{p}, res.Problems...)
	}
	if len(res.Problems) == 0 {
		return res, nil
	}

	var b strings.Builder
	fmt.Fprintf(&b, "nbrun: %s: %d problem(s)", nbPath, len(res.Problems))
	if runErr != nil {
		fmt.Fprintf(&b, " (nbconvert: %v)", runErr)
	}
	b.WriteString(":")
	for _, p := range res.Problems {
		b.WriteString("\n  " + p.String())
	}
	if res.ExecutedPath != "" {
		fmt.Fprintf(&b, "\n  executed notebook: %s", res.ExecutedPath)
	} else {
		b.WriteString("\n  (nbconvert wrote no executed notebook; see Result.Stderr for the kernel log)")
	}
	return res, errors.New(b.String())
}

var runCounter atomic.Int64

// NewMarker returns an environment entry (KEY=VALUE) unique to this process and call: give it to a
// process tree (e.g. a Jupyter server and its kernels) and stop what is left of it with Sweep.
func NewMarker() string {
	return fmt.Sprintf("NBRUN_RUN_ID=%d.%d.%d", os.Getpid(), runCounter.Add(1), time.Now().UnixNano())
}

// Sweep stops the processes whose environment holds marker (on Linux; elsewhere it does nothing):
// SIGTERM, then SIGKILL after three seconds.
func Sweep(marker string) { sweep(marker) }

var (
	tracebackStart = "Traceback (most recent call last):"
	exceptionRe    = regexp.MustCompile(`^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b[^ ]*:?`)
	cellSourceRe   = regexp.MustCompile(`(?s)(following cell|cell contents):\n-{18,}\n(.*?)\n-{18,}(?:\n|$)`)
)

// nbconvertProblem extracts, from nbconvert's failure output, the Python exception (e.g.
// nbclient.exceptions.CellExecutionError with the kernel's error text, CellTimeoutError,
// DeadKernelError) and the cell it names.
func nbconvertProblem(stderr string, input *notebookJSON) Problem {
	p := Problem{Cell: -1, Kind: KindNbconvert}
	text := stderr
	if i := strings.LastIndex(stderr, tracebackStart); i >= 0 {
		lines := strings.Split(stderr[i+len(tracebackStart):], "\n")
		for j, line := range lines {
			if exceptionRe.MatchString(line) {
				text = strings.Join(lines[j:], "\n")
				break
			}
		}
	} else {
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		text = strings.Join(lines[max(0, len(lines)-15):], "\n")
	}
	text = strings.TrimSpace(StripANSI(text))
	if m := cellSourceRe.FindStringSubmatchIndex(text); m != nil {
		src := strings.TrimSpace(text[m[4]:m[5]])
		for ci, cell := range input.Cells {
			if cell.CellType == "code" && strings.TrimSpace(string(cell.Source)) == src {
				p.Cell = ci
				break
			}
		}
		if text[m[2]:m[3]] == "following cell" {
			// CellExecutionError: keep the exception line and what follows the cell's
			// source, the kernel's error (for GoNB: the compile error in context).
			firstLine, _, _ := strings.Cut(text, "\n")
			text = firstLine + "\n" + strings.TrimSpace(text[m[1]:])
		}
	}
	if text == "" {
		text = "nbconvert failed without output"
	}
	p.Text = text
	return p
}

// environment is what Run needs, found once.
type environment struct {
	jupyter string // jupyter executable
	path    string // PATH for nbconvert and the kernel
	// kernelSpec is the notebook metadata "kernelspec" that Jupyter's front end writes for the
	// gonb kernel spec: its name, display_name and language.
	kernelSpec map[string]string
	err        error
}

var detect = sync.OnceValue(func() environment {
	e, err := findEnvironment()
	if err != nil {
		e.err = fmt.Errorf("nbrun: cannot execute GoNB notebooks: %w; run scripts/setup.sh", err)
	}
	return e
})

// JupyterCommand returns `jupyter args...` with the environment Run gives nbconvert (PATH with
// gonb, go and goimports first), e.g. for `nbconvert --to html`.
func JupyterCommand(ctx context.Context, args ...string) (*exec.Cmd, error) {
	e := detect()
	if e.err != nil {
		return nil, e.err
	}
	cmd := exec.CommandContext(ctx, e.jupyter, args...)
	cmd.Env = mergeEnv(os.Environ(), []string{"PATH=" + e.path})
	return cmd, nil
}

// Available returns nil if notebooks can be executed: jupyter with nbconvert, the "gonb"
// kernel spec (and its binary), go and goimports. Otherwise the error says what is missing
// and to run scripts/setup.sh.
func Available() error { return detect().err }

func findEnvironment() (environment, error) {
	var e environment
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
		if _, err := os.Stat(goBin); err != nil {
			return e, errors.New("go not found on PATH")
		}
	}
	out, err := exec.Command(goBin, "env", "GOBIN", "GOPATH", "GOROOT").Output()
	if err != nil {
		return e, fmt.Errorf("go env: %w", err)
	}
	goEnv := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(goEnv) != 3 {
		return e, fmt.Errorf("go env GOBIN GOPATH GOROOT printed %q", out)
	}
	gopathBin := goEnv[0] // Where `go install` (and so scripts/setup.sh) puts gonb and goimports.
	if gopathBin == "" {
		gopathBin = filepath.Join(filepath.SplitList(goEnv[1])[0], "bin")
	}
	gorootBin := filepath.Join(goEnv[2], "bin")
	// GOROOT/bin before /usr/bin, so that Debian's older golang-go (if any) does not win.
	dirs := []string{gopathBin, gorootBin, "/usr/bin"}
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	e.path = strings.Join(uniq(dirs), string(os.PathListSeparator))

	e.jupyter = "/usr/bin/jupyter"
	if _, err := os.Stat(e.jupyter); err != nil {
		if e.jupyter, err = lookPathIn("jupyter", e.path); err != nil {
			return e, errors.New("jupyter not found (Debian package jupyter-nbconvert)")
		}
	}
	if _, err := lookPathIn("goimports", e.path); err != nil {
		return e, fmt.Errorf("goimports not found in %s or on PATH", gopathBin)
	}

	env := mergeEnv(os.Environ(), []string{"PATH=" + e.path})
	cmd := exec.Command(e.jupyter, "nbconvert", "--version")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return e, fmt.Errorf("%s nbconvert --version: %w: %s", e.jupyter, err, strings.TrimSpace(string(out)))
	}
	cmd = exec.Command(e.jupyter, "kernelspec", "list", "--json")
	cmd.Env = env
	out, err = cmd.Output()
	if err != nil {
		return e, fmt.Errorf("%s kernelspec list: %w", e.jupyter, err)
	}
	var specs struct {
		Kernelspecs map[string]struct {
			ResourceDir string `json:"resource_dir"`
			Spec        struct {
				Argv        []string `json:"argv"`
				DisplayName string   `json:"display_name"`
				Language    string   `json:"language"`
			} `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &specs); err != nil {
		return e, fmt.Errorf("parsing jupyter kernelspec list --json: %w", err)
	}
	spec, ok := specs.Kernelspecs[KernelName]
	if !ok {
		return e, fmt.Errorf("no %q Jupyter kernel spec installed", KernelName)
	}
	if len(spec.Spec.Argv) == 0 {
		return e, fmt.Errorf("kernel spec %s has no argv", spec.ResourceDir)
	}
	if _, err := lookPathIn(spec.Spec.Argv[0], e.path); err != nil {
		return e, fmt.Errorf("kernel spec %s runs %s, which is missing", spec.ResourceDir, spec.Spec.Argv[0])
	}
	e.kernelSpec = map[string]string{"name": KernelName, "display_name": spec.Spec.DisplayName, "language": spec.Spec.Language}
	return e, nil
}

// lookPathIn is exec.LookPath with the given PATH.
func lookPathIn(file, path string) (string, error) {
	if strings.Contains(file, string(os.PathSeparator)) {
		if st, err := os.Stat(file); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s: not an executable", file)
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, file)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", file)
}

// mergeEnv returns base with the KEY=VALUE entries of extra replacing or added.
func mergeEnv(base, extra []string) []string {
	override := map[string]bool{}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		override[k] = true
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		if k, _, _ := strings.Cut(kv, "="); !override[k] {
			out = append(out, kv)
		}
	}
	// Later entries of extra win, as with os/exec's handling of duplicates.
	seen := map[string]int{}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := seen[k]; ok {
			out[i] = kv
			continue
		}
		seen[k] = len(out)
		out = append(out, kv)
	}
	return out
}

func uniq(dirs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range dirs {
		if d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
