package tasks

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeClassification(t *testing.T) {
	task := mustLoad(t, "rte", sg("RTE"))
	tok := newFakeTok()
	enc, err := Encode(task, "dev", tok, 64)
	if err != nil {
		t.Fatal(err)
	}
	if enc.Rows() != 2 || enc.NumChoices != 1 || !reflect.DeepEqual(enc.Labels, []int32{0, 1}) || enc.Split != "dev" || enc.Groups != nil {
		t.Fatalf("%+v", enc)
	}
	if got := tok.decode(enc.IDs[0]); got != "[CLS] The ferr ##y to the isla ##nd leav ##es ever ##y hour ##. [SEP] Ther ##e is a ferr ##y to the isla ##nd. [SEP]" {
		t.Fatalf("decoded %q", got)
	}
	types := enc.TypeIDs[0]
	if types[0] != 0 || types[len(types)-1] != 1 || len(types) != len(enc.IDs[0]) {
		t.Fatalf("types %v", types)
	}
	if enc.TruncatedRows != 0 || enc.TruncatedTokens != 0 {
		t.Fatalf("unexpected truncation %+v", enc)
	}
	// Truncation is counted.
	enc, err = Encode(task, "dev", tok, 8)
	if err != nil {
		t.Fatal(err)
	}
	if enc.TruncatedRows != 2 || enc.TruncatedTokens == 0 || len(enc.IDs[0]) != 8 {
		t.Fatalf("truncation: rows %d tokens %d len %d", enc.TruncatedRows, enc.TruncatedTokens, len(enc.IDs[0]))
	}
	// Unlabeled test split encodes with label -1.
	enc, err = Encode(task, "test", tok, 64)
	if err != nil || !reflect.DeepEqual(enc.Labels, []int32{-1, -1}) {
		t.Fatalf("test: %v %v", enc, err)
	}
	if _, err := Encode(task, "dev", tok, 2); err == nil {
		t.Fatal("want error for max_len 2")
	}
}

func TestEncodeMultipleChoice(t *testing.T) {
	task := mustLoad(t, "copa", sg("COPA"))
	tok := newFakeTok()
	enc, err := Encode(task, "train", tok, 64)
	if err != nil {
		t.Fatal(err)
	}
	if enc.NumChoices != 2 || enc.Rows() != 6 || !reflect.DeepEqual(enc.Labels, []int32{0, 0, 1}) {
		t.Fatalf("%d rows, labels %v", enc.Rows(), enc.Labels)
	}
	// Row 2*i+c is example i, choice c.
	if got := tok.decode(enc.IDs[3]); !strings.HasPrefix(got, "[CLS] The soup was too salt ##y. so [SEP] The cook adde ##d salt ##. [SEP]") {
		t.Fatalf("row 3 %q", got)
	}
}

func TestEncodeMultiRCGroups(t *testing.T) {
	task := mustLoad(t, "multirc", sg("MultiRC"))
	enc, err := Encode(task, "train", newFakeTok(), 128)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(enc.Groups, []string{"0/0", "0/0", "0/1", "0/1", "0/1", "1/2", "1/2"}) {
		t.Fatalf("groups %v", enc.Groups)
	}
}

func TestEncodeNER(t *testing.T) {
	task := mustLoad(t, "conll03", nerDir("conll03"))
	tok := newFakeTok()
	enc, err := Encode(task, "train", tok, 64)
	if err != nil {
		t.Fatal(err)
	}
	// "Greta Lind visited Oslo ." -> [CLS] Gret ##a Lind visi ##ted Oslo . [SEP]
	if got := tok.decode(enc.IDs[0]); got != "[CLS] Gret ##a Lind visi ##ted Oslo . [SEP]" {
		t.Fatalf("decoded %q", got)
	}
	if !reflect.DeepEqual(enc.FirstSub[0], []int{1, 3, 4, 6, 7}) {
		t.Fatalf("firstSub %v", enc.FirstSub[0])
	}
	// labels: B-PER=1 on "Gret", I-PER=2 on "Lind", O=0 on "visi", B-LOC=5 on "Oslo", O on "."
	I := int32(IgnoreIndex)
	want := []int32{I, 1, I, 2, 0, I, 5, 0, I}
	if !reflect.DeepEqual(enc.TokenLabels[0], want) {
		t.Fatalf("token labels %v, want %v", enc.TokenLabels[0], want)
	}
	if enc.Labels[0] != -1 || enc.DroppedWords != 0 {
		t.Fatalf("%+v", enc)
	}

	// Truncation: max_len 5 keeps [CLS] Gret ##a Lind [SEP]; three words lost.
	enc, err = Encode(task, "train", tok, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(enc.FirstSub[0], []int{1, 3, -1, -1, -1}) || enc.DroppedWords < 3 || enc.TruncatedRows == 0 {
		t.Fatalf("firstSub %v dropped %d rows %d", enc.FirstSub[0], enc.DroppedWords, enc.TruncatedRows)
	}
	// Word predictions: read at first sub-words, cut-off words get the fill.
	tokenPred := []int{0, 1, 0, 2, 0}
	words, err := enc.WordPredictions(0, tokenPred, 0)
	if err != nil || !reflect.DeepEqual(words, []int{1, 2, 0, 0, 0}) {
		t.Fatalf("word predictions %v %v", words, err)
	}
	// Scoring with the cut-off LOC counted as missed: gold PER, LOC; pred PER.
	preds := make([][]int, task.Train.Len())
	for i := range preds {
		preds[i] = make([]int, len(task.Train.Examples[i].Words)) // all O
	}
	preds[0] = words
	sc, ner, err := EvaluateWords(task, "train", preds)
	if err != nil {
		t.Fatal(err)
	}
	// gold entities: PER, LOC (sent 0), ORG (sent 1); predicted: PER -> p 1, r 1/3
	if ner.Gold != 3 || ner.Predicted != 1 || ner.Correct != 1 || math.Abs(sc["recall"]-1.0/3) > 1e-12 || sc["precision"] != 1 {
		t.Fatalf("scores %v %+v", sc, ner.PRF)
	}
}

func TestEvaluateClassification(t *testing.T) {
	cb := mustLoad(t, "cb", sg("CB"))
	// dev gold: contradiction(1) neutral(2) entailment(0); predict 1, 0, 0
	sc, err := Evaluate(cb, "dev", []int{1, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	// accuracy 2/3; F1: class0 p.5 r1 f2/3; class1 f1; class2 f0 -> macro (2/3+1)/3
	if math.Abs(sc["accuracy"]-2.0/3) > 1e-12 || math.Abs(sc["macro_f1"]-(2.0/3+1)/3) > 1e-12 {
		t.Fatalf("%v", sc)
	}
	if _, err := Evaluate(cb, "dev", []int{1, 0}); err == nil {
		t.Fatal("want length error")
	}
	if _, err := Evaluate(cb, "dev", []int{1, 0, 3}); err == nil {
		t.Fatal("want label range error")
	}
	mrc := mustLoad(t, "multirc", sg("MultiRC"))
	// train gold: 1 0 | 1 0 1 | 1 0 ; pred all right except answer 4
	sc, err = Evaluate(mrc, "train", []int{1, 0, 1, 0, 0, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	// EM: q0 right, q1 wrong, q2 right -> 2/3; F1a: gold pos 4, pred pos 3, tp 3 -> 6/7
	if math.Abs(sc["em"]-2.0/3) > 1e-12 || math.Abs(sc["f1a"]-6.0/7) > 1e-12 {
		t.Fatalf("%v", sc)
	}
	copa := mustLoad(t, "copa", sg("COPA"))
	if sc, err := Evaluate(copa, "train", []int{0, 1, 1}); err != nil || math.Abs(sc["accuracy"]-2.0/3) > 1e-12 {
		t.Fatalf("copa %v %v", sc, err)
	}
	ner := mustLoad(t, "conll03", nerDir("conll03"))
	if _, err := Evaluate(ner, "train", []int{0}); err == nil {
		t.Fatal("want error: NER uses EvaluateWords")
	}
}
