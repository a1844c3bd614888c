package viz

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// niceTicks marks a linear axis at multiples of 1, 2, 2.5 or 5 times a power of
// ten, six or seven labels over the range, with an unlabelled tick halfway between.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	step, dec := niceStep((hi - lo) / 6)
	var ticks []plot.Tick
	first := math.Ceil(lo/step-1e-9) * step
	for k := 0; ; k++ {
		v := first + float64(k)*step
		if v > hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', dec, 64)})
		if m := v + step/2; m <= hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	if m := first - step/2; m >= lo {
		ticks = append(ticks, plot.Tick{Value: m})
	}
	return ticks
}

// niceStep rounds raw up to 1, 2, 2.5 or 5 times a power of ten, and says how many
// decimals its multiples need.
func niceStep(raw float64) (step float64, decimals int) {
	p := math.Floor(math.Log10(raw))
	base := math.Pow(10, p)
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*base >= raw*(1-1e-9) {
			step = m * base
			dec := -int(p)
			if m == 2.5 {
				dec++
			}
			if m == 10 {
				dec--
			}
			return step, max(0, dec)
		}
	}
	return 10 * base, max(0, -int(p)-1)
}

// logTicks marks a log axis: powers of ten over wide ranges, 1-2-5 over a few
// decades, and linear nice values within one decade, so that every plot gets labels.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return niceTicks{}.Ticks(lo, hi)
	}
	decades := math.Log10(hi / lo)
	if decades < 1 {
		var out []plot.Tick
		for _, t := range (niceTicks{}).Ticks(lo, hi) {
			if t.Value > 0 {
				out = append(out, t)
			}
		}
		return out
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1.0; m <= 9; m++ {
			v := m * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || decades < 3 && (m == 2 || m == 5) {
				t.Label = strconv.FormatFloat(v, 'g', 4, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
