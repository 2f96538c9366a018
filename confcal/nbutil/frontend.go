package nbutil

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/dom"
)

// HeadlessEnv names the environment variable that tells the notebooks no browser is connected
// (internal/nbrun sets it for every headless execution): FrontEnd then answers false at once.
const HeadlessEnv = "CONFCAL_HEADLESS"

// SetEnv names the environment variable whose settings ("name=value;...", as -set takes them) the
// notebooks apply before their cells' own --set: CONFCAL_SET="preset=quick" runs every cell of the
// toy2d notebook in the quick preset (the browser test and scripts/render-notebooks.sh do).
const SetEnv = "CONFCAL_SET"

// Settings returns $CONFCAL_SET followed by set: what a notebook's setup applies, so that a cell's
// --set overrides the environment's.
func Settings(set string) string {
	var parts []string
	for _, s := range []string{os.Getenv(SetEnv), set} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ";")
}

// FrontEnd reports whether a browser is connected to the running cell, so that GoNB widgets
// (gonbui/widgets) work: it asks the page to send a value back through GoNB's comms and waits up to
// timeout for it. Without a browser (nbconvert, the tests) a widget's Done waits forever; a cell
// calls FrontEnd first and falls back to fixed settings when it answers false. It is false outside a
// notebook and, at once, when $CONFCAL_HEADLESS is set.
//
// The first comms call makes GoNB install its JavaScript in the page, which takes a moment (GoNB
// gives up after 3 s), so the question is repeated every half second until the answer comes. Under
// a plain `jupyter nbconvert --execute` (no $CONFCAL_HEADLESS) the answer is false after timeout, and
// GoNB's page script stays in the executed notebook as an HTML output.
func FrontEnd(timeout time.Duration) bool {
	if !gonbui.IsNotebook || os.Getenv(HeadlessEnv) != "" {
		return false
	}
	address := "/confcal/frontend/" + gonbui.UniqueID()
	// Never closed: GoNB v0.11.1's gonbui/comms dispatcher returns without releasing its lock when a
	// value arrives for an address nobody listens to (a late answer would do that), after which the
	// program can no longer receive anything, nor finish a gonbui.Sync.
	answers := comms.Listen[int](address).LatestOnly()
	js := fmt.Sprintf(`globalThis.gonb_comm && globalThis.gonb_comm.send(%q, 1);`, address)
	deadline := time.After(timeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		dom.TransientJavascript(js)
		select {
		case <-answers.C:
			return true
		case <-deadline:
			return false
		case <-tick.C:
		}
	}
}
