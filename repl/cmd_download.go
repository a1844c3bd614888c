package repl

import (
	"context"
	"slices"
	"strings"

	"github.com/aptbench/apt/aptlib"
	"github.com/aptbench/apt/aptlib/tasks"
)

// downloadNames are the names download completes.
var downloadNames = append([]string{"superglue"}, aptlib.SuperGLUETasks...)

func cmdDownload(ctx context.Context, s *Shell, args []string) error {
	if len(args) != 1 {
		return usageError("download", "give a SuperGLUE task (%s) or superglue", strings.Join(aptlib.SuperGLUETasks, " "))
	}
	name := strings.ToLower(args[0])
	if !slices.Contains(downloadNames, name) && !slices.Contains(taskNames, name) {
		return usageError("download", "unknown task %s%s", printable(args[0]), didYouMean(name, downloadNames))
	}
	opt := s.w.DownloadOptions
	from, into := opt.BaseURL, opt.CacheDir
	if from == "" {
		from = tasks.DefaultSuperGLUEBaseURL
	}
	if into == "" {
		into, _ = tasks.DefaultCacheDir()
	}
	if slices.Contains(downloadNames, name) {
		s.printf("downloading %s from %s into %s (Ctrl-C stops)\n", name, from, into)
	}
	done, err := s.w.DownloadTasks(ctx, name, func(d aptlib.DownloadedTask) {
		s.printf("  %-8s %s\n", d.Task, d.Dir)
	})
	if err != nil {
		if ctx.Err() != nil {
			s.printf("interrupted; %d task%s in the cache, the one being fetched was not kept\n", len(done), plural(len(done)))
			return ErrInterrupted
		}
		return err
	}
	if len(done) == 1 {
		s.printf("next: %s\n", done[0].LoadLine)
	} else if len(done) > 1 {
		s.printf("next: %s (or any of the others the same way)\n", done[len(done)-1].LoadLine)
	}
	return nil
}
