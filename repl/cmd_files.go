package repl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/aptlib/tasks"
	"github.com/aptbench/apt/aptlib/trainer"
)

func cmdSaveAdapter(_ context.Context, s *Shell, args []string) error {
	if len(args) != 1 {
		return usageError("save adapter", "give one file name")
	}
	path, err := s.expandPath(args[0])
	if err != nil {
		return fmt.Errorf("save adapter: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() && !method.Kind(mustGet(s.w, method.ParamMethod)).TrainsBackbone() {
		if err := s.w.CheckOutputDir("save adapter", path); err != nil {
			return err // e.g. the loaded model's directory: suggest no file in it
		}
		return fmt.Errorf("save adapter: %s is a directory; give a file name such as %s/adapter.safetensors", path, strings.TrimRight(path, "/"))
	}
	if err := s.w.SaveAdapter(path); err != nil {
		return err
	}
	m := mustGet(s.w, method.ParamMethod)
	what := m
	if !method.Kind(m).TrainsBackbone() {
		what += ", prefix_len " + mustGet(s.w, method.ParamPrefixLen)
	}
	size := ""
	if n := statFile(path); n >= 0 {
		size = ", " + bytesText(n)
	}
	s.printf("saved adapter %s (%s, step %d%s)\n", path, what, s.steps(), size)
	return nil
}

func cmdLoadAdapter(_ context.Context, s *Shell, args []string) error {
	if len(args) != 1 {
		return usageError("load adapter", "give one adapter file")
	}
	path, err := s.expandPath(args[0])
	if err != nil {
		return fmt.Errorf("load adapter: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("load adapter: %s: %w", path, unwrapPathErr(err))
	}
	hadTask := s.w.Task != nil && !s.w.TaskFromAdapter()
	if err := s.w.LoadAdapter(path); err != nil {
		return err
	}
	m := mustGet(s.w, method.ParamMethod)
	desc := m
	if method.Kind(m).HasPrefix() {
		desc += ", prefix_len " + mustGet(s.w, method.ParamPrefixLen) + ", gate_pooling " + mustGet(s.w, method.ParamGatePooling)
		if off := mustGet(s.w, method.ParamPositionOffset); off == method.OffsetPrefix {
			desc += ", position_offset " + off
		}
	}
	desc += ", max_len " + mustGet(s.w, trainer.ParamMaxLen)
	s.printf("loaded adapter %s: %s; labels %s\n", path, desc, strings.Join(s.w.Task.Labels, " "))
	if !hadTask {
		s.demoTask = false
		lines := `{"text": ..., "text_pair": ...}`
		if s.w.Task.Kind == tasks.TokenClassification {
			lines = `{"tokens": ["word", ...]}`
		}
		s.note("no task was loaded: predict reads %s lines for these labels", lines)
	}
	return nil
}

func cmdPredict(ctx context.Context, s *Shell, args []string) error {
	if len(args) != 2 {
		return usageError("predict", "give an input and an output file")
	}
	in, err := s.expandPath(args[0])
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	out, err := s.expandPath(args[1])
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if st, err := os.Stat(in); err != nil {
		return fmt.Errorf("predict: input %s: %w", in, unwrapPathErr(err))
	} else if st.IsDir() {
		return fmt.Errorf("predict: input %s is a directory; give a JSONL file", in)
	}
	n, err := s.w.PredictContext(ctx, in, out)
	if err != nil {
		return s.interrupted(ctx, err)
	}
	s.printf("wrote %d prediction%s to %s%s\n", n, plural(n), out, labelCounts(out))
	return nil
}

// labelCounts summarises the predicted labels of a prediction file:
// " (positive 3, negative 2)"; "" when they are not plain labels.
func labelCounts(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line struct {
			Label any `json:"label"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			return ""
		}
		switch l := line.Label.(type) {
		case string:
			counts[l]++
		case float64:
			counts[fmt.Sprintf("choice %d", int(l))]++
		default:
			return ""
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
