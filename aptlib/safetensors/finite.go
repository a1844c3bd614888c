package safetensors

import (
	"fmt"
	"math"
	"path/filepath"
)

// FirstNonFinite returns the index of the first NaN or infinite value of data
// and its name ("NaN", "+Inf" or "-Inf"), or -1, "" when every value is finite.
func FirstNonFinite(data []float32) (int, string) {
	for i, v := range data {
		if v-v != 0 { // NaN and ±Inf only
			switch {
			case math.IsNaN(float64(v)):
				return i, "NaN"
			case v > 0:
				return i, "+Inf"
			default:
				return i, "-Inf"
			}
		}
	}
	return -1, ""
}

// CheckFinite is an error naming the file and the tensor when data holds a NaN or
// an infinity, nil otherwise. Weights like these give garbage predictions, so
// loaders refuse them.
func CheckFinite(file, tensor string, data []float32) error {
	if i, what := FirstNonFinite(data); i >= 0 {
		return fmt.Errorf("%s: tensor %s has a non-finite value (%s at index %d)", file, tensor, what, i)
	}
	return nil
}

// FileOf is the base name of the file of the set holding the tensor name, or
// the directory when no file holds it.
func (s *Set) FileOf(name string) string {
	if f, ok := s.owner[name]; ok {
		return filepath.Base(f.Path())
	}
	return s.dir
}
