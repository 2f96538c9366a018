package toy2d

import (
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/store"
)

// Results is what a run of the 2D toy writes to results.json: both figures' numbers, the
// configuration they came from, and the timings. Notebooks and tests read it back with Load.
type Results struct {
	Fig1 *Fig1Result `json:"fig1,omitempty"`
	Fig3 *Fig3Result `json:"fig3,omitempty"`
}

// ResultsFile is the name of the results file inside an output directory.
const ResultsFile = "results.json"

// Validate checks that results read back hold at least one figure.
func (r *Results) Validate() error {
	if r.Fig1 == nil && r.Fig3 == nil {
		return errors.New("holds neither figure 1 nor figure 3 results")
	}
	return nil
}

// Load reads dir/results.json (or a file path) with store.Read.
func Load(path string) (*Results, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, ResultsFile)
	}
	return store.Read[Results](path)
}

// Update changes dir/results.json with store.Update (each notebook cell or command adds its own
// figure's results) and returns the file's path.
func Update(dir string, change func(r *Results)) (string, error) {
	path := filepath.Join(dir, ResultsFile)
	return path, store.Update(path, change)
}
