package notebooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/internal/nbrun"
)

// ArtifactsEnv names the folder where TestBrowserToy2D writes its screenshots and log (default:
// out/browsertest at the repository root).
const ArtifactsEnv = "CONFCAL_ARTIFACTS"

// TestBrowserToy2D opens notebooks/toy2d.ipynb in a real Jupyter Notebook server with the GoNB
// kernel, in headless Chromium driven by puppeteer-core (browsertest/toy2d_browser.mjs): it checks
// that opening the notebook does not mark it modified, runs all cells (quick preset, through
// $CONFCAL_SET), moves the explorer's box slider, presses Train and checks that the confidence map
// changed as Figure 1 says it should. Screenshots and the browser's log go to $CONFCAL_ARTIFACTS or
// out/browsertest/. About 2–3 minutes on 2 cores.
//
// The server serves a copy of the notebook (in a temporary folder, so nothing it saves touches the
// tracked file) whose first cell points the notebook's module at this checkout by its absolute path
// instead of "${GONB_DIR}/..".
//
// Skipped with -short, and outside CI when Jupyter Notebook, GoNB, Chromium, node or the npm
// packages (scripts/setup.sh installs them all) are missing.
func TestBrowserToy2D(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser through the whole notebook; skipped with -short")
	}
	need := func(err error) {
		t.Helper()
		if err == nil {
			return
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and the browser test cannot run: %v (scripts/setup.sh installs what it needs)", err)
		}
		t.Skipf("%v (scripts/setup.sh installs it)", err)
	}
	need(nbrun.Available())
	chrome, err := findChrome()
	need(err)
	node, err := exec.LookPath("node")
	need(err)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(repo, "notebooks", "browsertest", "toy2d_browser.mjs")
	if _, err := os.Stat(filepath.Join(repo, "notebooks", "browsertest", "node_modules", "puppeteer-core")); err != nil {
		need(fmt.Errorf("puppeteer-core is not installed in notebooks/browsertest (npm ci)"))
	}
	version, err := nbrun.JupyterCommand(t.Context(), "notebook", "--version")
	need(err)
	if out, err := version.Output(); err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), "6.") {
		need(fmt.Errorf("the browser test drives the classic Jupyter Notebook 6 (Debian's jupyter-notebook); `jupyter notebook --version` gave %q, %v", out, err))
	}

	artifacts := os.Getenv(ArtifactsEnv)
	if artifacts == "" {
		artifacts = filepath.Join(repo, "out", "browsertest")
	}
	if err := os.RemoveAll(artifacts); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots and log: %s", artifacts)

	// The copy of the notebook.
	dir := t.TempDir()
	data, err := os.ReadFile("toy2d.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	const replace = `\"${GONB_DIR}/..\"`
	if !strings.Contains(string(data), replace) {
		t.Fatalf("toy2d.ipynb's first cell does not replace the module by %s", replace)
	}
	abs, _ := json.Marshal(repo) // A JSON string; inside the cell's JSON string its quotes are escaped.
	data = []byte(strings.Replace(string(data), replace, strings.ReplaceAll(string(abs), `"`, `\"`), 1))
	if err := os.WriteFile(filepath.Join(dir, "toy2d.ipynb"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	// The server, on a free port, with a token of our own; the kernel's cells write to outDir.
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	token := fmt.Sprintf("%x", time.Now().UnixNano())
	outDir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	marker := nbrun.NewMarker()
	args := []string{"notebook", "--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--NotebookApp.token=" + token, "--NotebookApp.open_browser=False", "--notebook-dir=" + dir}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root")
	}
	server, err := nbrun.JupyterCommand(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	server.Env = append(server.Env, marker, nbutil.SetEnv+"=preset=quick", nbutil.OutEnv+"="+outDir,
		"JUPYTER_RUNTIME_DIR="+t.TempDir())
	serverLog, err := os.Create(filepath.Join(artifacts, "jupyter.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer serverLog.Close()
	server.Stdout, server.Stderr = serverLog, serverLog
	server.Cancel = func() error { return server.Process.Signal(os.Interrupt) }
	server.WaitDelay = 10 * time.Second
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// SIGINT twice: Notebook 6 asks for confirmation after the first one and shuts its kernels
		// down after the second; whatever is left (the kernel, a cell's program) is swept.
		_ = server.Process.Signal(syscall.SIGINT)
		time.Sleep(200 * time.Millisecond)
		_ = server.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = server.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = server.Process.Kill()
			<-done
		}
		nbrun.Sweep(marker)
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHTTP(ctx, base+"/api/status?token="+token, time.Minute); err != nil {
		t.Fatalf("Jupyter Notebook did not come up: %v (log: %s)", err, serverLog.Name())
	}

	start := time.Now()
	arg, _ := json.Marshal(map[string]any{
		"chrome": chrome, "url": base + "/notebooks/toy2d.ipynb?token=" + token,
		"artifacts": artifacts, "timeoutMs": (10 * time.Minute).Milliseconds(),
	})
	drive := exec.CommandContext(ctx, node, script, string(arg))
	drive.Dir = filepath.Dir(script)
	drive.WaitDelay = 10 * time.Second
	out, err := drive.CombinedOutput()
	t.Logf("browser run (%s):\n%s", time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Fatalf("the browser test failed: %v; screenshots, browser.log and jupyter.log in %s", err, artifacts)
	}
	for _, f := range []string{"2-explorer-default.png", "3-explorer-box50.png"} {
		if st, err := os.Stat(filepath.Join(artifacts, f)); err != nil || st.Size() < 10000 {
			t.Errorf("screenshot %s missing or too small: %v", f, err)
		}
	}
}

// findChrome returns $CONFCAL_CHROME, or the first Chromium or Chrome found.
func findChrome() (string, error) {
	if c := os.Getenv("CONFCAL_CHROME"); c != "" {
		return c, nil
	}
	for _, c := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	for _, p := range []string{"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "/Applications/Chromium.app/Contents/MacOS/Chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium or Chrome found (Debian package chromium; or set CONFCAL_CHROME)")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers 200.
func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
}
