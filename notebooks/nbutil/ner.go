package nbutil

import (
	"fmt"
	"html"
	"sort"
	"strings"

	"github.com/aptbench/apt/aptlib/metrics"
)

// entityColors are light backgrounds, one per entity type in order of first
// appearance (text stays readable on them).
var entityColors = []string{"#ffd8a8", "#b2f2bb", "#a5d8ff", "#eebefa", "#ffec99", "#99e9f2", "#fcc2d7", "#d0bfff"}

// EntityColors assigns a colour to each entity type (sorted by name, so that
// every sentence of a notebook uses the same colours).
func EntityColors(types []string) map[string]string {
	t := append([]string(nil), types...)
	sort.Strings(t)
	out := map[string]string{}
	for i, ty := range t {
		out[ty] = entityColors[i%len(entityColors)]
	}
	return out
}

// EntityTypes lists the entity types of BIO labels ("B-PER" -> "PER").
func EntityTypes(labels []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range labels {
		if len(l) > 2 && l[1] == '-' && !seen[l[2:]] {
			seen[l[2:]] = true
			out = append(out, l[2:])
		}
	}
	sort.Strings(out)
	return out
}

// Highlight renders a sentence with its entities (from BIO tags, read as
// seqeval reads them) as coloured spans labelled with their type. When ref is
// non-nil, each entity is framed: green when ref has the same entity (type,
// start and end), red dashed when it does not.
func Highlight(words, tags []string, colors map[string]string, ref []string) string {
	ents, err := metrics.Entities(tags)
	if err != nil {
		return `<span style="color:#b00020">` + html.EscapeString(err.Error()) + `</span>`
	}
	refSet := map[metrics.Entity]bool{}
	if ref != nil {
		rs, _ := metrics.Entities(ref)
		for _, e := range rs {
			refSet[e] = true
		}
	}
	start := map[int]metrics.Entity{}
	for _, e := range ents {
		start[e.Start] = e
	}
	var b strings.Builder
	for i := 0; i < len(words); {
		e, ok := start[i]
		if !ok {
			b.WriteString(html.EscapeString(words[i]) + " ")
			i++
			continue
		}
		col := colors[e.Type]
		if col == "" {
			col = "#dee2e6"
		}
		frame := "1px solid transparent"
		if ref != nil {
			if refSet[e] {
				frame = "2px solid #2b8a3e"
			} else {
				frame = "2px dashed #c92a2a"
			}
		}
		fmt.Fprintf(&b, `<span style="background:%s;border:%s;border-radius:4px;padding:0 3px;margin:0 1px">%s <sup style="font-size:9px;font-weight:bold;color:#495057">%s</sup></span> `,
			col, frame, html.EscapeString(strings.Join(words[e.Start:e.End+1], " ")), html.EscapeString(e.Type))
		i = e.End + 1
	}
	return b.String()
}

// Legend shows the colour of each entity type and, with frames, what the
// frames of Highlight with a reference mean.
func Legend(colors map[string]string, frames bool) string {
	var types []string
	for t := range colors {
		types = append(types, t)
	}
	sort.Strings(types)
	var b strings.Builder
	b.WriteString(`<div style="font-family:sans-serif;font-size:13px;margin:4px 0">`)
	for _, t := range types {
		fmt.Fprintf(&b, `<span style="background:%s;border-radius:4px;padding:1px 6px;margin-right:6px">%s</span>`, colors[t], html.EscapeString(t))
	}
	if frames {
		b.WriteString(`<span style="border:2px solid #2b8a3e;border-radius:4px;padding:0 6px;margin-right:6px">predicted and in gold</span>`)
		b.WriteString(`<span style="border:2px dashed #c92a2a;border-radius:4px;padding:0 6px">predicted, not in gold</span>`)
	}
	b.WriteString(`</div>`)
	return b.String()
}
