package toy2d

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/confcal/confcal/internal/atomicfile"
)

// Results is what a run of the 2D toy writes to results.json: both figures' numbers, the
// configuration they came from, and the timings. Notebooks and tests read it back with Load.
type Results struct {
	Fig1 *Fig1Result `json:"fig1,omitempty"`
	Fig3 *Fig3Result `json:"fig3,omitempty"`
}

// ResultsFile is the name of the results file inside an output directory.
const ResultsFile = "results.json"

// Save writes the results to dir/results.json atomically.
func (r *Results) Save(dir string) (string, error) {
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return "", errors.Wrap(err, "encoding toy2d results")
	}
	path := filepath.Join(dir, ResultsFile)
	return path, atomicfile.WriteFile(path, data, 0o644)
}

// Load reads dir/results.json (or a file path), with an error naming the file if it is missing or
// not a results file.
func Load(path string) (*Results, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, ResultsFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrapf(err, "reading toy2d results")
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, errors.Wrapf(err, "%s is not a toy2d results file (JSON)", path)
	}
	if r.Fig1 == nil && r.Fig3 == nil {
		return nil, errors.Errorf("%s holds neither figure 1 nor figure 3 results", path)
	}
	return &r, nil
}

// Update loads dir/results.json if it exists (starting empty otherwise), lets change modify it and
// saves it back atomically: each notebook cell or command adds its own figure's results.
func Update(dir string, change func(r *Results)) (string, error) {
	r := &Results{}
	path := filepath.Join(dir, ResultsFile)
	if _, err := os.Stat(path); err == nil {
		if r, err = Load(path); err != nil {
			return "", err
		}
	}
	change(r)
	return r.Save(dir)
}
