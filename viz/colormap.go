package viz

import (
	"image/color"
	"math"
)

// viridisStops samples matplotlib's viridis (CC0, by Nathaniel J. Smith, Stefan van
// der Walt and Eric Firing) at every 8th of its 256 entries plus the last one;
// linear interpolation between them is within 2/255 of the full table.
var viridisStops = [...][3]uint8{
	{0x44, 0x01, 0x54}, {0x47, 0x0d, 0x60}, {0x48, 0x18, 0x6a}, {0x48, 0x23, 0x74}, {0x47, 0x2d, 0x7b}, {0x45, 0x37, 0x81},
	{0x42, 0x40, 0x86}, {0x3e, 0x49, 0x89}, {0x3b, 0x52, 0x8b}, {0x37, 0x5b, 0x8d}, {0x33, 0x63, 0x8d}, {0x2f, 0x6b, 0x8e},
	{0x2c, 0x72, 0x8e}, {0x29, 0x7a, 0x8e}, {0x26, 0x82, 0x8e}, {0x23, 0x89, 0x8e}, {0x21, 0x91, 0x8c}, {0x1f, 0x98, 0x8b},
	{0x1f, 0xa0, 0x88}, {0x22, 0xa7, 0x85}, {0x28, 0xae, 0x80}, {0x32, 0xb6, 0x7a}, {0x3f, 0xbc, 0x73}, {0x4e, 0xc3, 0x6b},
	{0x5e, 0xc9, 0x62}, {0x70, 0xcf, 0x57}, {0x84, 0xd4, 0x4b}, {0x98, 0xd8, 0x3e}, {0xad, 0xdc, 0x30}, {0xc2, 0xdf, 0x23},
	{0xd8, 0xe2, 0x19}, {0xec, 0xe5, 0x1b}, {0xfd, 0xe7, 0x25},
}

// Viridis maps t in [0, 1] (clamped; NaN gives the low end) to the viridis colour map:
// dark purple at 0, teal at 0.5, yellow at 1.
func Viridis(t float64) color.RGBA {
	if !(t > 0) {
		t = 0
	}
	if t > 1 {
		t = 1
	}
	// Stop k sits at index 8k of the 256-entry table; the last stop at 255.
	pos := t * 255
	k := int(pos / 8)
	if k >= len(viridisStops)-1 {
		k = len(viridisStops) - 2
	}
	lo, hi := float64(8*k), float64(8*(k+1))
	if k+1 == len(viridisStops)-1 {
		hi = 255
	}
	f := (pos - lo) / (hi - lo)
	a, b := viridisStops[k], viridisStops[k+1]
	mix := func(i int) uint8 {
		return uint8(math.Round(float64(a[i]) + f*(float64(b[i])-float64(a[i]))))
	}
	return color.RGBA{mix(0), mix(1), mix(2), 255}
}

// valueScale is a colour scale from lo to hi (lo < hi always).
type valueScale struct{ lo, hi float64 }

// newScale returns the scale for min/max as the input types define them: both 0
// means the range of the finite values; an empty or constant range is widened by
// 0.5 each side so that nothing divides by zero.
func newScale(min, max float64, values ...[][]float64) valueScale {
	if min == 0 && max == 0 || math.IsNaN(min) || math.IsNaN(max) {
		min, max = math.Inf(1), math.Inf(-1)
		for _, m := range values {
			for _, row := range m {
				for _, v := range row {
					if !math.IsNaN(v) && !math.IsInf(v, 0) {
						min, max = math.Min(min, v), math.Max(max, v)
					}
				}
			}
		}
		if min > max { // no finite value
			min, max = 0, 1
		}
	}
	if min > max {
		min, max = max, min
	}
	if min == max {
		min, max = min-0.5, max+0.5
	}
	return valueScale{min, max}
}

// norm maps v to [0, 1], clamping values outside the scale.
func (s valueScale) norm(v float64) float64 {
	t := (v - s.lo) / (s.hi - s.lo)
	return math.Max(0, math.Min(1, t))
}

func (s valueScale) color(v float64) color.RGBA { return Viridis(s.norm(v)) }

// seriesColor gives series i of n a viridis colour, stopping short of the light
// yellow end so that every line stays visible on white.
func seriesColor(i, n int) color.RGBA {
	if n <= 1 {
		return Viridis(0.3)
	}
	return Viridis(0.88 * float64(i) / float64(n-1))
}

// inkOn returns black or white, whichever reads better on background c.
func inkOn(c color.RGBA) color.RGBA {
	// Relative luminance (sRGB approximated by a 2.2 power).
	lin := func(u uint8) float64 { return math.Pow(float64(u)/255, 2.2) }
	l := 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
	if l > 0.18 {
		return color.RGBA{0, 0, 0, 255}
	}
	return color.RGBA{255, 255, 255, 255}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
