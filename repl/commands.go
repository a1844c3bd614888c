package repl

import (
	"context"
	"fmt"
	"strings"
)

// command is one shell command. Commands with a verb and a noun ("load
// model") are looked up by both words.
type command struct {
	name     string // "train", "load model"
	usage    string
	list     string // a shorter usage for the help list ("" = usage)
	summary  string // one line for the help list
	help     string // the longer description for help <command>
	examples []string
	group    string
	run      func(ctx context.Context, s *Shell, args []string) error
}

var commands []*command

// groups, in the order help lists them.
var groups = []string{"Session", "Training", "Gates", "Files", "Shell"}

func init() {
	commands = []*command{
		{name: "load model", group: "Session", usage: "load model <dir | hub-id | demo>",
			summary: "load a frozen backbone (bert, roberta, deberta, deberta-v2)",
			help: "Loads a backbone of any family that config.json's model_type names: a HuggingFace model directory " +
				"(config.json, model.safetensors and the family's tokenizer files), " +
				"a Hub id such as bert-base-uncased or FacebookAI/roberta-base (downloaded to the HuggingFace cache when the " +
				"network allows; HF_ENDPOINT points at a mirror), " +
				"or demo, the small random-weight model that ships with the workbench. " +
				"Loading a model drops the trained state; settings stay.",
			examples: []string{"load model demo", "load model bert-base-uncased", "load model ~/models/bert-base-uncased"},
			run:      cmdLoadModel},
		{name: "load task", group: "Session", usage: "load task <name> [<dir>]",
			summary: "load a task: demo, SuperGLUE (rte cb ...), NER (conll03 ...), jsonl, conll",
			help: "Loads a task's data. SuperGLUE tasks (boolq cb copa rte wic wsc multirc) read the official JSONL " +
				"(train.jsonl, val.jsonl) from <dir>; NER tasks (conll03 conll04 wnut17 wikiann, or conll for any " +
				"CoNLL column set) read train.txt, dev.txt and test.txt; jsonl reads {\"text\", \"text_pair\", \"label\"} " +
				"lines; demo is the small sentiment task that ships with the workbench.",
			examples: []string{"load task demo", "load task rte ~/data/RTE", "load task conll03 ~/data/conll2003", "load task jsonl ./my-set"},
			run:      cmdLoadTask},
		{name: "download", group: "Session", usage: "download <task | superglue>",
			summary: "fetch a SuperGLUE task's official files into the cache",
			help: "Downloads the official archive of a SuperGLUE task (boolq cb copa multirc rte wic wsc), or of all " +
				"seven with superglue, into the download cache, where load task <name> with no directory finds it. " +
				"A task already in the cache is not fetched again. Without network access it fails at once and says " +
				"where to get the zip by hand. The NER sets (conll03 conll04 wnut17 wikiann) have no official " +
				"download: load their CoNLL files with load task <name> DIR.",
			examples: []string{"download rte", "download superglue"}, run: cmdDownload},
		{name: "set", group: "Session", usage: "set <key>=<value> ...",
			summary: "change settings (set alone lists them; set <key> explains one)",
			help: "Changes one or more settings; each value is checked (type and range, max_len against the model's " +
				"positions) and a refused one names the setting. Only method, prefix_len and prompt_len re-create " +
				"the method's parameters, and a note says when that discards trained or loaded ones. The rest keep " +
				"them: seed and the initialisation settings apply when the parameters are next created (reset), " +
				"max_len and the data limits re-encode the data, the dropouts and gate_pooling rebuild the graphs, " +
				"lr, batch_size, epochs and the other trainer settings start a new optimizer. `show config` lists every key.",
			examples: []string{"set method=apt prefix_len=8", "set lr=1e-2 epochs=5", "set prefix_len=0,0,8,16", "set lr"},
			run:      cmdSet},
		{name: "show config", group: "Session", usage: "show config",
			summary:  "every setting with its value (* marks a changed one)",
			help:     "Lists every setting with its value and what it does; a * marks values that differ from the default.",
			examples: []string{"show config"}, run: cmdShowConfig},
		{name: "show model", group: "Session", usage: "show model",
			summary: "the backbone: size, layers, trainable parameters per method",
			help: "Shows the loaded backbone (layers, hidden size, heads, parameters), the backend, and how many " +
				"parameters each method trains on it with the current prefix_len and prompt_len.",
			examples: []string{"show model"}, run: cmdShowModel},
		{name: "show task", group: "Session", usage: "show task",
			summary: "the task: split sizes, labels, metrics, truncation at max_len",
			help: "Shows the loaded task: its kind, labels and metrics, the size of each split, and (with a model " +
				"loaded) how many rows max_len truncates.",
			examples: []string{"show task"}, run: cmdShowTask},
		{name: "show status", group: "Session", usage: "show [status]",
			summary:  "what is loaded and how far training got",
			help:     "Shows the backend, model, task, method, steps trained, the last loss and the loaded adapter.",
			examples: []string{"show", "show status"}, run: cmdShowStatus},
		{name: "reset", group: "Session", usage: "reset [all]",
			summary: "re-initialise the method (reset all: a fresh session)",
			help: "reset re-creates the method's parameters from the current settings (the training so far is " +
				"dropped; model, task and settings stay). reset all drops the model, the task and every setting too.",
			examples: []string{"reset", "reset all"}, run: cmdReset},

		{name: "train", group: "Training", usage: "train [<n> steps | <n> epochs]",
			summary: "train (alone: to the end of the epochs setting), evaluating each epoch",
			help: "Trains the method. With no argument it trains to the end of the learning-rate schedule (all of it " +
				"when starting fresh) and ends on the best evaluated epoch's state; n epochs does the same over n epochs; " +
				"n steps trains n steps and keeps the last step's state. On a fresh run, n steps (or n epochs) makes " +
				"the schedule span them; later runs continue on it (past its end the linear schedule gives lr 0; set " +
				"epochs to span epochs again). Evaluation on dev runs at every epoch end. A step whose loss is not " +
				"finite stops the run with the previous step's state kept. A progress line shows step, loss, examples/s and time " +
				"left. Ctrl-C stops between steps and keeps the state trained so far.",
			examples: []string{"train", "train 20 steps", "train 2 epochs"}, run: cmdTrain},
		{name: "step", group: "Training", usage: "step [<n>]",
			summary: "train one batch (or n) and show the loss and gates",
			help: "Runs one training step (or n) and prints the step, loss, learning rate and a one-line gate summary: " +
				"lambda per layer and each layer's mean alpha as a sparkline.",
			examples: []string{"step", "step 5"}, run: cmdStep},
		{name: "eval", group: "Training", usage: "eval [train | dev | test]",
			summary:  "the task's metrics on a split (default dev)",
			help:     "Evaluates the current state on a split with the task's metrics (e.g. accuracy and macro-F1, or entity F1). Ctrl-C stops it between batches.",
			examples: []string{"eval", "eval dev", "eval train"}, run: cmdEval},

		{name: "gates", group: "Gates", usage: "gates [batch | train | dev | test] [--values] [--effective] [--by-label] [--json FILE] [--csv FILE]",
			list:    "gates [SOURCE] [OPTIONS]",
			summary: "lambda per layer and alpha per prefix slot as a heat map",
			help: "Shows the gates: alpha (token gate, one value per prefix slot and layer) as a heat map and lambda " +
				"(layer scale) as bars. The source is the last training batch (batch, the default after training) or " +
				"a split averaged over its examples. --values prints the numbers, --effective maps lambda*alpha, " +
				"--by-label draws one map per gold label, --json/--csv write the gates to a file. Ctrl-C stops a split's run " +
				"between batches and writes nothing.",
			examples: []string{"gates", "gates dev --values", "gates dev --json gates.json", "gates --csv gates.csv"}, run: cmdGates},
		{name: "plot", group: "Gates", usage: "plot <loss | gates | lambda | alpha> FILE.svg|.png [source]",
			list:    "plot KIND FILE.svg|.png",
			summary: "write a picture: loss curve, gate heat map, lambda or alpha over steps",
			help: "Writes a picture as SVG or PNG (by the file's extension): loss = training loss and dev score, " +
				"gates = the alpha heat map (of the last batch, or of the split given after the file), lambda = " +
				"lambda per layer over the training steps, alpha = each layer's mean alpha over the steps.",
			examples: []string{"plot loss loss.svg", "plot gates gates.png dev", "plot lambda lambda.svg"}, run: cmdPlot},

		{name: "save adapter", group: "Files", usage: "save adapter FILE",
			summary: "write the trained prefixes, gates and head (.safetensors)",
			help: "Saves the trained method and head as an adapter file (format in docs/adapters.md; ft writes a model " +
				"directory). The settings and the step are recorded in its metadata.",
			examples: []string{"save adapter rte-apt.safetensors", "save adapter $TMPDIR/demo.safetensors"}, run: cmdSaveAdapter},
		{name: "load adapter", group: "Files", usage: "load adapter FILE",
			summary: "load an adapter onto the loaded model",
			help: "Loads an adapter file onto the loaded backbone; method, prefix lengths, pooling and max_len follow " +
				"the adapter. With no task loaded, a generic classifier over the adapter's labels is set up (predict then reads " +
				"{\"text\", \"text_pair\"} lines, or {\"tokens\": [...]} for a token-classification adapter). A load that " +
				"fails leaves the session as it was.",
			examples: []string{"load adapter rte-apt.safetensors"}, run: cmdLoadAdapter},
		{name: "predict", group: "Files", usage: "predict IN OUT",
			summary: "predict a JSONL file: logits, label and gates per line",
			help: "Reads IN (JSONL, one example per line in the task's format, or {\"text\", \"text_pair\"}) and writes " +
				"OUT with one {\"logits\", \"label\", \"gates\"} line per input line, so a blank line inside IN is an " +
				"error (blank lines at its end are fine). OUT may not be IN or a file of the loaded model, adapter or task. " +
				"Ctrl-C stops it between batches; OUT is then not written.",
			examples: []string{"predict inputs.jsonl predictions.jsonl"}, run: cmdPredict},

		{name: "help", group: "Shell", usage: "help [command]",
			summary:  "this list, or a command's usage and examples",
			help:     "Lists the commands, or shows one command's usage, description and examples.",
			examples: []string{"help", "help gates", "help load task"}, run: cmdHelp},
		{name: "history", group: "Shell", usage: "history [n]",
			summary:  "the commands run in this session",
			help:     "Prints the last n (default 20) commands of this session. Up-arrow and Ctrl-R recall earlier sessions' lines too.",
			examples: []string{"history", "history 50"}, run: cmdHistory},
		{name: "echo", group: "Shell", usage: "echo [text ...]",
			summary:  "print a line (for scripts)",
			help:     "Prints its arguments; useful to narrate a script.",
			examples: []string{"echo training APT on the demo task"}, run: cmdEcho},
		{name: "quit", group: "Shell", usage: "quit",
			summary:  "leave (also exit, Ctrl-D)",
			help:     "Leaves the shell. In a script it ends the script successfully.",
			examples: []string{"quit"}, run: cmdQuit},
	}
}

// verbs with a noun after them.
var nouns = map[string][]string{
	"load": {"model", "task", "adapter"},
	"save": {"adapter"},
	"show": {"config", "model", "task", "status"},
}

var aliases = map[string]string{"exit": "quit", "?": "help", "settings": "show config"}

// verbNames lists every first word the shell accepts.
func verbNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range commands {
		v := strings.Fields(c.name)[0]
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	out = append(out, "exit")
	return out
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// lookup finds the command for a line's words and returns its arguments.
func lookup(words []string) (*command, []string, error) {
	verb := strings.ToLower(words[0])
	if a, ok := aliases[verb]; ok {
		f := strings.Fields(a)
		words = append(f, words[1:]...)
		verb = f[0]
	}
	if ns, ok := nouns[verb]; ok {
		if len(words) < 2 {
			if verb == "show" {
				return findCommand("show status"), nil, nil
			}
			return nil, nil, fmt.Errorf("%s what? say %s (e.g. %s)", verb, orList(prefixed(verb+" ", ns)), findCommand(verb + " " + ns[0]).examples[0])
		}
		noun := strings.ToLower(words[1])
		c := findCommand(verb + " " + noun)
		if c == nil {
			return nil, nil, fmt.Errorf("unknown command %q%s; %s takes %s",
				verb+" "+words[1], didYouMean(noun, ns), verb, orList(ns))
		}
		return c, words[2:], nil
	}
	if c := findCommand(verb); c != nil {
		return c, words[1:], nil
	}
	return nil, nil, fmt.Errorf("unknown command %s%s; type help", printable(words[0]), didYouMean(verb, verbNames()))
}

func prefixed(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + x
	}
	return out
}

// orList renders "a, b or c".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// usageError is a bad-arguments error that shows the command's usage.
func usageError(name, format string, a ...any) error {
	c := findCommand(name)
	msg := fmt.Sprintf(format, a...)
	if c == nil {
		return fmt.Errorf("%s: %s", name, msg)
	}
	return fmt.Errorf("%s: %s (usage: %s)", name, msg, c.usage)
}

func cmdHelp(_ context.Context, s *Shell, args []string) error {
	if len(args) == 0 {
		s.printf("%s\n\n", s.bold("apt-repl: Adaptive Prefix Tuning on a frozen BERT"))
		t := &table{}
		for gi, g := range groups {
			if gi > 0 {
				t.add("")
			}
			t.add(s.bold(g))
			for _, c := range commands {
				if c.group == g {
					u := c.usage
					if c.list != "" {
						u = c.list
					}
					t.add("  "+s.cyan(u), c.summary)
				}
			}
		}
		s.printf("%s\n", t)
		s.printf("help <command> shows a command's usage and examples. Tab completes commands, settings and\n")
		s.printf("file names; Ctrl-C stops a running command (the trained state is kept); Ctrl-D quits.\n")
		s.printf("New here? Try: load model demo, load task demo, train 20 steps, gates.\n")
		return nil
	}
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = strings.ToLower(a)
	}
	if a, ok := aliases[words[0]]; ok {
		words = append(strings.Fields(a), words[1:]...)
	}
	name := strings.Join(words, " ")
	var found []*command
	if c := findCommand(name); c != nil {
		found = []*command{c}
	} else if ns, ok := nouns[words[0]]; ok && len(words) == 1 {
		for _, n := range ns {
			found = append(found, findCommand(words[0]+" "+n))
		}
	}
	if len(found) == 0 {
		var names []string
		for _, c := range commands {
			names = append(names, c.name)
		}
		return fmt.Errorf("help: no command %s%s; type help for the list", printable(name), didYouMean(name, append(names, verbNames()...)))
	}
	for i, c := range found {
		if i > 0 {
			s.println()
		}
		s.printf("%s %s\n", s.bold("usage:"), c.usage)
		s.printf("%s\n", wrap(c.help, min(s.width(), 100)-2, "  "))
		if len(c.examples) > 0 {
			s.printf("%s\n", s.bold("examples:"))
			for _, e := range c.examples {
				s.printf("  apt> %s\n", e)
			}
		}
	}
	return nil
}

// hang fills text like wrap, with no indent on the first line and hangIndent
// on the others.
func hang(text string, width int, hangIndent string) string {
	w := wrap(text, width, hangIndent)
	return strings.TrimPrefix(w, hangIndent)
}

// wrap fills text into lines of at most width columns, each with indent.
func wrap(text string, width int, indent string) string {
	width = max(width, 20)
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line)
	return b.String()
}

func cmdHistory(_ context.Context, s *Shell, args []string) error {
	n := 20
	if len(args) > 1 {
		return usageError("history", "too many arguments")
	}
	if len(args) == 1 {
		if _, err := fmt.Sscanf(args[0], "%d", &n); err != nil || n <= 0 {
			return usageError("history", "%s is not a positive count", printable(args[0]))
		}
	}
	h := s.history
	if len(h) > 0 { // leave out this history command itself
		h = h[:len(h)-1]
	}
	start := max(0, len(h)-n)
	for i := start; i < len(h); i++ {
		s.printf("%5d  %s\n", i+1, h[i])
	}
	return nil
}

func cmdEcho(_ context.Context, s *Shell, args []string) error {
	s.println(strings.Join(args, " "))
	return nil
}

func cmdQuit(_ context.Context, s *Shell, args []string) error {
	if len(args) > 0 {
		return usageError("quit", "takes no arguments")
	}
	s.quit = true
	return nil
}
