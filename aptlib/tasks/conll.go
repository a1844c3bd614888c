package tasks

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aptbench/apt/aptlib/metrics"
)

// NER sets in CoNLL column format (docs/tasks.md): the token in the first
// column, the tag in the last, a blank or whitespace-only line between
// sentences, `-DOCSTART-` lines skipped (they start a new document). Columns are
// separated by tabs when the line has a tab, else by spaces. Tags are O or
// B-/I- plus a type (E-/S- for IOBES sets); IOB1 files are converted to BIO.
//
//	conll03  train.txt, valid.txt (or dev.txt), test.txt; "token POS chunk tag"
//	conll04  train.txt, dev.txt, test.txt in the layout of the standard split
//	         (bekou/multihead_joint_entity_relation_extraction, data/CoNLL04):
//	         a "#doc N" line starts each sentence, then one tab-separated line per
//	         token "index token tag relations heads"; files in plain column
//	         format (P-Tuning v2's own data/CoNLL04) are read as well
//	wnut17   wnut17train.conll, emerging.dev.conll, emerging.test.annotated
//	wikiann  train, dev, test (Rahimi et al. split); tokens carry a language
//	         prefix "en:" that is removed
//	conll    train.txt, dev.txt (or valid.txt), test.txt; labels from the data
//
// Label lists (logit order) are those of the HuggingFace datasets conll2003,
// wnut_17 and wikiann, and of P-Tuning v2's tasks/ner/datasets/conll2004.py.
var conllTasks = map[string]struct {
	files  splitFiles
	labels []string
}{
	"conll03": {splitFiles{[]string{"train.txt"}, []string{"valid.txt", "dev.txt"}, []string{"test.txt"}},
		[]string{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"}},
	"conll04": {splitFiles{[]string{"train.txt"}, []string{"dev.txt", "valid.txt"}, []string{"test.txt"}},
		[]string{"O", "B-Loc", "B-Peop", "B-Org", "B-Other", "I-Loc", "I-Peop", "I-Org", "I-Other"}},
	"wnut17": {splitFiles{[]string{"wnut17train.conll", "train.conll"}, []string{"emerging.dev.conll", "dev.conll"}, []string{"emerging.test.annotated", "test.conll"}},
		[]string{"O", "B-corporation", "I-corporation", "B-creative-work", "I-creative-work", "B-group", "I-group",
			"B-location", "I-location", "B-person", "I-person", "B-product", "I-product"}},
	"wikiann": {splitFiles{[]string{"train"}, []string{"dev"}, []string{"test"}},
		[]string{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}},
	"conll": {splitFiles{[]string{"train.txt"}, []string{"dev.txt", "valid.txt"}, []string{"test.txt"}}, nil},
}

func loadCoNLLTask(name, dir string) (*Task, error) {
	cfg, ok := conllTasks[name]
	if !ok {
		return nil, fmt.Errorf("internal: %s is not a CoNLL task", name)
	}
	t := &Task{Name: name, Dir: dir, Kind: TokenClassification, Labels: cfg.labels,
		Metrics: []string{metrics.F1, metrics.Precision, metrics.Recall}}
	err := readSplits(t, cfg.files, func(split, path string) (*Split, error) {
		opt := conllOptions{stripPrefix: ""}
		if name == "wikiann" {
			opt.stripPrefix = "en:"
		}
		exs, err := readCoNLLFile(path, opt)
		if err != nil {
			return nil, err
		}
		return &Split{Name: split, File: path, Examples: exs, Labeled: true}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := fixTagScheme(t); err != nil {
		return nil, err
	}
	if t.Labels == nil {
		t.Labels = labelsFromTags(t)
	}
	known := map[string]bool{}
	for _, l := range t.Labels {
		known[l] = true
	}
	for _, s := range []*Split{t.Train, t.Dev, t.Test} {
		if s == nil {
			continue
		}
		for _, ex := range s.Examples {
			for i, tag := range ex.Tags {
				if !known[tag] {
					return nil, &DataError{File: s.File, Line: ex.Line + i, Field: "tag", Column: true,
						Msg: unknownLabelMsg(tag, t.Labels)}
				}
			}
		}
	}
	return t, nil
}

type conllOptions struct {
	stripPrefix string // removed from the start of each token (WikiANN "en:")
}

// readCoNLLFile reads one column-format file into sentences. Example.Line is the
// line of the sentence's first token, and lines follow one another within a
// sentence, so token i is on line Line+i.
func readCoNLLFile(path string, opt conllOptions) ([]Example, error) {
	data, err := readTaskFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	docLayout := false // CoNLL04 "#doc" layout
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			docLayout = strings.HasPrefix(l, "#doc")
			break
		}
	}
	var out []Example
	var cur *Example
	doc := 0
	flush := func() {
		if cur != nil && len(cur.Words) > 0 {
			cur.ID = strconv.Itoa(len(out))
			out = append(out, *cur)
		}
		cur = nil
	}
	docName := ""
	for i, line := range lines {
		lineNo := i + 1
		line = strings.TrimRight(line, "\r")
		if !utf8.ValidString(line) {
			return nil, &DataError{File: path, Line: lineNo, Msg: "not valid UTF-8"}
		}
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if strings.HasPrefix(line, "-DOCSTART-") {
			flush()
			doc++
			docName = strconv.Itoa(doc)
			continue
		}
		if docLayout && strings.HasPrefix(line, "#doc") {
			flush()
			docName = strings.TrimSpace(strings.TrimPrefix(line, "#doc"))
			continue
		}
		var token, tag string
		if docLayout {
			cols := strings.Split(line, "\t")
			if len(cols) < 3 {
				return nil, &DataError{File: path, Line: lineNo, Msg: fmt.Sprintf("want tab-separated \"index token tag ...\", got %d column(s): %q", len(cols), line)}
			}
			want := 0
			if cur != nil {
				want = len(cur.Words)
			}
			if n, err := strconv.Atoi(cols[0]); err != nil || n != want {
				return nil, &DataError{File: path, Line: lineNo, Field: "index", Column: true, Msg: fmt.Sprintf("want token index %d, got %q", want, cols[0])}
			}
			token, tag = cols[1], strings.TrimSpace(cols[2])
		} else {
			cols := splitColumns(line)
			if len(cols) < 2 {
				return nil, &DataError{File: path, Line: lineNo, Msg: fmt.Sprintf("want a token and a tag separated by a tab or space, got %q", line)}
			}
			token, tag = cols[0], cols[len(cols)-1]
		}
		if opt.stripPrefix != "" {
			token = strings.TrimPrefix(token, opt.stripPrefix)
		}
		if token == "" {
			return nil, &DataError{File: path, Line: lineNo, Field: "token", Column: true, Msg: "empty"}
		}
		if err := checkTagSyntax(tag); err != nil {
			return nil, &DataError{File: path, Line: lineNo, Field: "tag", Column: true, Msg: err.Error()}
		}
		if cur == nil {
			cur = &Example{Line: lineNo, LabelIndex: -1, Doc: docName}
		}
		cur.Words = append(cur.Words, token)
		cur.Tags = append(cur.Tags, tag)
	}
	flush()
	return out, nil
}

// splitColumns splits on tabs when the line has one, else on spaces; empty
// columns (repeated separators, trailing ones) are dropped.
func splitColumns(line string) []string {
	sep := " "
	if strings.Contains(line, "\t") {
		sep = "\t"
	}
	var out []string
	for _, c := range strings.Split(line, sep) {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func checkTagSyntax(tag string) error {
	if tag == "O" {
		return nil
	}
	if len(tag) >= 3 && tag[1] == '-' && strings.ContainsRune("BIES", rune(tag[0])) && strings.TrimSpace(tag[2:]) == tag[2:] {
		return nil
	}
	return fmt.Errorf("invalid tag %q: want O, or B- or I- (E-, S- for IOBES) followed by the entity type", tag)
}

// IOB1ToBIO converts one sentence's tags from IOB1 (B- only where an entity
// directly follows another of the same type) to BIO/IOB2 (every entity starts
// with B-): an I-X that starts an entity (at the sentence start, after O, or
// after a tag of another type) becomes B-X. BIO input comes back unchanged, so
// the conversion is safe to apply to either. It returns a new slice.
func IOB1ToBIO(tags []string) []string {
	out := make([]string, len(tags))
	prevType := ""
	for i, t := range tags {
		out[i] = t
		typ := ""
		if len(t) > 2 && t[1] == '-' {
			typ = t[2:]
		}
		if t[0] == 'I' && typ != "" && typ != prevType {
			out[i] = "B-" + typ
		}
		if t == "O" {
			prevType = ""
		} else {
			prevType = typ
		}
	}
	return out
}

// TagScheme inspects sentences' tags and says how they are written:
// "IOBES" when any E-/S- tag occurs; "IOB1" when some I- tag starts an entity
// and no B- tag does (B- then only separates adjacent entities of one type);
// else "BIO". strayI counts I- tags that start an entity in BIO data (the
// evaluation reads them as B-, as seqeval does).
func TagScheme(sentences [][]string) (scheme string, strayI int) {
	iStarts, bStarts := 0, 0
	for _, tags := range sentences {
		prevType := ""
		for _, t := range tags {
			if t == "O" {
				prevType = ""
				continue
			}
			if t[0] == 'E' || t[0] == 'S' {
				return "IOBES", 0
			}
			typ := t[2:]
			if typ != prevType {
				if t[0] == 'I' {
					iStarts++
				} else {
					bStarts++
				}
			}
			prevType = typ
		}
	}
	if iStarts > 0 && bStarts == 0 {
		return "IOB1", 0
	}
	return "BIO", iStarts
}

// fixTagScheme detects the scheme over all splits and converts IOB1 to BIO.
func fixTagScheme(t *Task) error {
	var all [][]string
	for _, s := range []*Split{t.Train, t.Dev, t.Test} {
		if s == nil {
			continue
		}
		for _, ex := range s.Examples {
			all = append(all, ex.Tags)
		}
	}
	scheme, stray := TagScheme(all)
	t.TagScheme = scheme
	if stray > 0 {
		// Kept as they are, so that training sees the tags P-Tuning v2 sees; the
		// score does not depend on it (seqeval starts an entity at such a tag).
		t.Warnings = append(t.Warnings, fmt.Sprintf("%d I- tag(s) start an entity with no B- before them (kept; seqeval reads them as entity starts)", stray))
	}
	if scheme != "IOB1" {
		return nil
	}
	for _, s := range []*Split{t.Train, t.Dev, t.Test} {
		if s == nil {
			continue
		}
		for i := range s.Examples {
			s.Examples[i].Tags = IOB1ToBIO(s.Examples[i].Tags)
		}
	}
	return nil
}

// labelsFromTags builds the label list of a generic conll task: "O", then for
// each entity type in sorted order its B- and I- tags (and E-, S- for IOBES).
func labelsFromTags(t *Task) []string {
	types := map[string]bool{}
	for _, s := range []*Split{t.Train, t.Dev, t.Test} {
		if s == nil {
			continue
		}
		for _, ex := range s.Examples {
			for _, tag := range ex.Tags {
				if tag != "O" {
					types[tag[2:]] = true
				}
			}
		}
	}
	prefixes := []string{"B-", "I-"}
	if t.TagScheme == "IOBES" {
		prefixes = []string{"B-", "I-", "E-", "S-"}
	}
	labels := []string{"O"}
	for _, typ := range sortedKeys(types) {
		for _, p := range prefixes {
			labels = append(labels, p+typ)
		}
	}
	return labels
}
