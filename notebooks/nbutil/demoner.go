package nbutil

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// DemoNER writes a small synthetic NER set in CoNLL column format (train.txt,
// dev.txt; entity types Peop, Loc, Org as in CoNLL04) into dir, for the NER
// notebooks to fall back on when the benchmark data is absent. It is made up
// from templates and name lists, deterministic, and says nothing about real
// NER performance. Load it with w.LoadTask("conll", dir).
func DemoNER(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	people := []string{"Anna Berg", "Tom Hale", "Maria Costa", "John Reed", "Lena Fox", "Omar Said", "Rita Lane", "Paul Kim"}
	places := []string{"Paris", "New York", "Oslo", "Cairo", "Lima", "Texas", "Rome", "Boston"}
	orgs := []string{"Acme Corp", "the United Nations", "Nova Bank", "City Council", "Red Cross", "Apex Labs"}
	templates := []string{
		"{P} works for {O} in {L} .",
		"{P} flew to {L} on Monday .",
		"{O} opened an office in {L} .",
		"Officials of {O} met {P} yesterday .",
		"{P} and {P} were born in {L} .",
		"The storm hit {L} and closed {O} .",
		"{P} said {O} would grow .",
		"It rained all week .",
	}
	rng := rand.New(rand.NewPCG(4, 2))
	for _, split := range []struct {
		file string
		n    int
	}{{"train.txt", 320}, {"dev.txt", 80}} {
		var b strings.Builder
		for range split.n {
			t := templates[rng.IntN(len(templates))]
			for _, tok := range strings.Fields(t) {
				var name, typ string
				switch tok {
				case "{P}":
					name, typ = people[rng.IntN(len(people))], "Peop"
				case "{L}":
					name, typ = places[rng.IntN(len(places))], "Loc"
				case "{O}":
					name, typ = orgs[rng.IntN(len(orgs))], "Org"
				default:
					fmt.Fprintf(&b, "%s O\n", tok)
					continue
				}
				for i, wd := range strings.Fields(name) {
					tag := "I-" + typ
					if i == 0 {
						tag = "B-" + typ
					}
					fmt.Fprintf(&b, "%s %s\n", wd, tag)
				}
			}
			b.WriteString("\n")
		}
		if err := os.WriteFile(filepath.Join(dir, split.file), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
