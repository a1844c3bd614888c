package aptlib

import (
	"os"
	"path/filepath"

	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/internal/outguard"
	"github.com/aptbench/apt/viz"
)

// CheckOutput refuses a file output that would replace something the session
// reads or has loaded: a file of (or in) the loaded model's directory, the
// model directory itself, the loaded adapter, a data file of the loaded task;
// also an existing directory or a read-only file. Paths are compared after
// resolving "..", symbolic links and hard links. op names the command in the
// error ("save adapter", "gates --json"). Every writer of the workbench calls
// it before writing anything; the shell calls it for its own exports.
func (w *Workbench) CheckOutput(op, path string) error {
	return w.outputGuard().Check(op, expandHome(path))
}

// CheckOutputDir is CheckOutput for an output directory that is written as a
// whole (an FT model directory): it must not be, lie in, or hold anything the
// session has loaded.
func (w *Workbench) CheckOutputDir(op, dir string) error {
	return w.outputGuard().CheckDir(op, expandHome(dir))
}

// outputGuard is the set of paths the session must not overwrite.
func (w *Workbench) outputGuard() *outguard.Guard {
	g := &outguard.Guard{}
	if w.Model != nil {
		g.Dir("the loaded model", w.Model.Dir)
	}
	if w.Adapter != "" {
		if st, err := os.Stat(w.Adapter); err == nil && st.IsDir() {
			g.Dir("the loaded adapter", w.Adapter)
		} else {
			g.File("the loaded adapter", w.Adapter)
		}
	}
	if t := w.Task; t != nil {
		for _, s := range []struct {
			name string
			file string
		}{{"train", fileOf(t.Train)}, {"dev", fileOf(t.Dev)}, {"test", fileOf(t.Test)}} {
			g.File("the loaded task's "+s.name+" file", s.file)
		}
		if labels := filepath.Join(t.Dir, "labels.txt"); t.Dir != "" && fileExists(labels) {
			g.File("the loaded task's labels file", labels)
		}
	}
	return g
}

// SavePlot writes a figure as SVG or PNG (by the extension) after the same
// check as every other output.
func (w *Workbench) SavePlot(path string, f viz.Figure) error {
	path = expandHome(path)
	if err := w.CheckOutput("plot", path); err != nil {
		return err
	}
	return viz.Save(path, f)
}

func fileOf(s *tasks.Split) string {
	if s == nil {
		return ""
	}
	return s.File
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
