package nbrun

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Problem kinds.
const (
	// KindErrorOutput is an output of type "error": the kernel reported the cell as failed
	// (GoNB: compile errors, failed `go get`/goimports, bad special commands).
	KindErrorOutput = "error-output"
	// KindPanic is a "panic: ..." line on the cell's stderr.
	KindPanic = "panic"
	// KindExitStatus is an "exit status N" (or "signal: ...") line on the cell's stderr: GoNB
	// writes it when the cell's program or a `!cmd` shell command exits non-zero.
	KindExitStatus = "exit-status"
	// KindStderrError is another fatal message on stderr: Go runtime "fatal error:", a klog
	// Fatal line, "GoNB Error:", or an unknown %special command.
	KindStderrError = "stderr-error"
	// KindNbconvert is a failure of nbconvert itself: a cell failed (nbconvert stops at the
	// first error output, e.g. a compile error), a cell timed out, or the kernel died.
	KindNbconvert = "nbconvert"
)

// Problem is one failure found in an executed notebook.
type Problem struct {
	// Cell is the 0-based index of the cell in the notebook's "cells" array (markdown cells
	// included), or -1 when unknown. Note GoNB's own messages ("Cell [3]") use execution counts.
	Cell int
	// Kind is one of the Kind* constants.
	Kind string
	// Text is the relevant output text, ANSI escapes removed.
	Text string
}

func (p Problem) String() string {
	where := "notebook"
	if p.Cell >= 0 {
		where = fmt.Sprintf("cell index %d", p.Cell)
	}
	return fmt.Sprintf("%s [%s]: %s", where, p.Kind, firstLines(p.Text, 12))
}

var (
	ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	// Lines of a cell's stderr that mean the cell failed. GoNB does not report these as
	// errors to Jupyter, so nbconvert succeeds.
	panicRe      = regexp.MustCompile(`^panic: `)
	exitStatusRe = regexp.MustCompile(`^(exit status [0-9]+|signal: [a-z].*)$`)
	fatalRe      = regexp.MustCompile(`^(fatal error: |GoNB Error:|F[0-9]{4} [0-9:.]+ +[0-9]+ \S+:[0-9]+\] )`)
	unknownCmdRe = regexp.MustCompile(`^"%\S+" unknown or not implemented yet`)
)

// StripANSI removes terminal escape sequences (GoNB marks cell lines in stack traces with them).
func StripANSI(s string) string { return ansiRe.ReplaceAllString(s, "") }

// multiline is a Jupyter "multiline string": a string or a list of strings to concatenate.
type multiline string

func (m *multiline) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = multiline(s)
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*m = multiline(strings.Join(l, ""))
	return nil
}

type nbOutput struct {
	OutputType string                     `json:"output_type"`
	Name       string                     `json:"name"`
	Text       multiline                  `json:"text"`
	Data       map[string]json.RawMessage `json:"data"`
	Ename      string                     `json:"ename"`
	Evalue     string                     `json:"evalue"`
	Traceback  []string                   `json:"traceback"`
}

type nbCell struct {
	CellType string     `json:"cell_type"`
	Source   multiline  `json:"source"`
	Outputs  []nbOutput `json:"outputs"`
}

type notebookJSON struct {
	Cells    []nbCell `json:"cells"`
	NBFormat int      `json:"nbformat"`
}

func parseNotebook(data []byte) (*notebookJSON, error) {
	var nb notebookJSON
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("nbrun: parsing notebook JSON: %w", err)
	}
	if nb.NBFormat != 4 {
		return nil, fmt.Errorf("nbrun: notebook format %d, want 4", nb.NBFormat)
	}
	return &nb, nil
}

// Scan inspects an executed notebook (nbformat 4 JSON). It counts the code cells, the outputs
// holding an "image/png" and those holding "text/html", and lists the problems: outputs of
// type "error", and stderr lines that GoNB writes when a cell fails without telling Jupyter:
// "panic: ...", "exit status N" / "signal: ...", "fatal error: ...", klog Fatal lines,
// "GoNB Error:", unknown %commands. An "exit status" is not reported again for a cell whose
// stderr already had a panic or fatal error.
//
// Other stderr text is harmless and ignored: klog I/W/E lines, log.Printf output, "go: added"
// lines of `go get`, and anything else a program chooses to print there.
func Scan(executedNotebookJSON []byte) (cells, images, html int, problems []Problem, err error) {
	nb, err := parseNotebook(executedNotebookJSON)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	for ci, cell := range nb.Cells {
		if cell.CellType != "code" {
			continue
		}
		cells++
		var stderr strings.Builder
		for _, out := range cell.Outputs {
			switch out.OutputType {
			case "error":
				text := strings.Join(out.Traceback, "\n")
				if strings.TrimSpace(text) == "" {
					text = out.Evalue
				}
				problems = append(problems, Problem{Cell: ci, Kind: KindErrorOutput,
					Text: strings.TrimSpace(StripANSI(out.Ename + ": " + text))})
			case "stream":
				if out.Name == "stderr" {
					stderr.WriteString(string(out.Text))
				}
			case "display_data", "execute_result", "update_display_data":
				if _, ok := out.Data["image/png"]; ok {
					images++
				}
				if _, ok := out.Data["text/html"]; ok {
					html++
				}
			}
		}
		problems = append(problems, scanStderr(ci, stderr.String())...)
	}
	return cells, images, html, problems, nil
}

// scanStderr finds the failure lines in the stderr text of cell ci.
func scanStderr(ci int, text string) []Problem {
	if text == "" {
		return nil
	}
	lines := strings.Split(StripANSI(text), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	var problems, exits []Problem
	for i, line := range lines {
		switch {
		case panicRe.MatchString(line):
			problems = append(problems, Problem{Cell: ci, Kind: KindPanic, Text: window(lines, i, 0, 12)})
		case fatalRe.MatchString(line), unknownCmdRe.MatchString(line):
			problems = append(problems, Problem{Cell: ci, Kind: KindStderrError, Text: window(lines, i, 0, 12)})
		case exitStatusRe.MatchString(line):
			// The lines before it usually say why (e.g. the output of a failed `!cmd`).
			exits = append(exits, Problem{Cell: ci, Kind: KindExitStatus, Text: window(lines, i, 6, 1)})
		}
	}
	if len(problems) == 0 {
		problems = exits
	}
	return problems
}

// window returns lines[i-before : i+after] (clamped), without blank lines at either end.
func window(lines []string, i, before, after int) string {
	from, to := max(0, i-before), min(len(lines), i+after)
	return strings.Trim(strings.Join(lines[from:to], "\n"), "\n")
}

// firstLines returns the first n non-blank lines of s, indented, noting how many were left out.
func firstLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) <= n {
		return strings.Join(lines, "\n    ")
	}
	return strings.Join(lines[:n], "\n    ") + fmt.Sprintf("\n    ... (%d more lines)", len(lines)-n)
}
