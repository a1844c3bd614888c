package aptlib

import (
	gocontext "context"
	"fmt"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib/tasks"
)

// SuperGLUETasks are the tasks DownloadTasks fetches for "superglue".
var SuperGLUETasks = []string{"boolq", "cb", "copa", "multirc", "rte", "wic", "wsc"}

// nerTasks have no official archive to download.
var nerTasks = []string{"conll03", "conll04", "wnut17", "wikiann", "conll"}

// DownloadedTask is a task whose official files DownloadTasks made available.
type DownloadedTask struct {
	Task string // rte, cb, ...
	Dir  string // where its files are
	// LoadLine is the shell command that loads it: `load task rte` when the
	// files are in the default cache (where load task looks without a
	// directory), else `load task rte DIR`.
	LoadLine string
}

// DownloadTasks fetches the official files of name, a SuperGLUE task (boolq
// cb copa multirc rte wic wsc) or "superglue" for all seven, into the
// download cache (DownloadOptions.CacheDir, default tasks.DefaultCacheDir), a
// task already there being used as it is. each, when set, sees every task as
// soon as it is ready. Without network access it fails within seconds with
// what to do instead; cancelling ctx stops it, and an interrupted download
// leaves no partial task behind. The NER sets have no official download: for
// them, and for jsonl, conll and demo, the error says how to load their files.
func (w *Workbench) DownloadTasks(ctx gocontext.Context, name string, each func(DownloadedTask)) ([]DownloadedTask, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	var todo []string
	switch {
	case name == "superglue" || name == "all":
		todo = SuperGLUETasks
	case slices.Contains(SuperGLUETasks, name):
		todo = []string{name}
	case slices.Contains(nerTasks, name):
		return nil, fmt.Errorf("download: %s has no official download archive (the NER sets are licensed separately; CoNLL-2003 may not be redistributed): get its train/dev/test files in CoNLL column format yourself and load them with load task %s DIR", name, name)
	case name == "jsonl":
		return nil, fmt.Errorf("download: jsonl is a set of your own files, there is nothing to download: load task jsonl DIR (train.jsonl, val.jsonl with {\"text\", \"label\"} lines)")
	case name == "demo":
		return nil, fmt.Errorf("download: the demo task is built in, there is nothing to download: load task demo")
	case name == "":
		return nil, fmt.Errorf("download: give a SuperGLUE task (%s) or superglue for all of them", strings.Join(SuperGLUETasks, " "))
	default:
		return nil, fmt.Errorf("download: unknown task %q: give a SuperGLUE task (%s) or superglue for all of them", name, strings.Join(SuperGLUETasks, " "))
	}
	var done []DownloadedTask
	for _, t := range todo {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		dir, err := tasks.DownloadSuperGLUE(ctx, t, w.DownloadOptions)
		if err != nil {
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			return done, err
		}
		d := DownloadedTask{Task: t, Dir: dir, LoadLine: "load task " + t}
		if w.DownloadOptions.CacheDir != "" {
			d.LoadLine += " " + dir
		}
		done = append(done, d)
		if each != nil {
			each(d)
		}
	}
	return done, nil
}
