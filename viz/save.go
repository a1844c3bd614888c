package viz

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/aptbench/apt/internal/atomicfile"
	"gonum.org/v1/plot/vg/vgimg"
)

// WriteSVG writes f as a standalone SVG document (no XML prolog, so that it can
// also be inlined in HTML).
func WriteSVG(w io.Writer, f Figure) error {
	var buf bytes.Buffer
	if err := render(f, func(s scene) error { return s.svg(&buf) }); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WritePNG writes f as a PNG image of [Size] pixels.
func WritePNG(w io.Writer, f Figure) error { return WritePNGScale(w, f, 1) }

// WritePNGScale writes f as a PNG image scaled by scale (2 for high-density
// screens and print): Size * scale pixels, rounded.
func WritePNGScale(w io.Writer, f Figure, scale float64) error {
	if !(scale > 0) || scale > 16 {
		return fmt.Errorf("viz: PNG scale %v out of range (0, 16]", scale)
	}
	var buf bytes.Buffer
	err := render(f, func(s scene) error {
		fw, fh := s.size()
		img := image.NewRGBA(image.Rect(0, 0, int(math.Round(fw*scale)), int(math.Round(fh*scale))))
		// The canvas is fw x fh CSS pixels (1/96 inch) drawn at 96*scale dots per inch.
		c := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(int(math.Round(96*scale))))
		s.draw(c)
		_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(&buf)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// HTML returns f as a self-contained <div> with an inline SVG, for notebooks
// (GoNB: gonbui.DisplayHTML(viz.HTML(fig))). Heat-map cells show their value on
// hover. Should drawing fail, the <div> says why instead.
func HTML(f Figure) string {
	var buf bytes.Buffer
	if err := WriteSVG(&buf, f); err != nil {
		return `<div class="apt-viz apt-viz-error" style="color:#b00020;font-family:monospace">` +
			escape(err.Error()) + `</div>`
	}
	return `<div class="apt-viz" style="display:inline-block;max-width:100%;overflow-x:auto;background:#fff">` +
		buf.String() + `</div>`
}

// Save writes f to path as SVG or PNG, chosen by the extension (.svg or .png, any
// case); other extensions are an error. The file is written atomically: a temporary
// file in the same directory renamed into place, so that a failed save never leaves
// a partial file under path.
func Save(path string, f Figure) error {
	var write func(io.Writer, Figure) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		write = WriteSVG
	case ".png":
		write = WritePNG
	default:
		return fmt.Errorf("viz: cannot save %q: the file name must end in .svg or .png", path)
	}
	var buf bytes.Buffer // drawn first, so a drawing error leaves no file at all
	if err := write(&buf, f); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, buf.Bytes()); err != nil {
		return fmt.Errorf("viz: saving %s: %w", path, err)
	}
	return nil
}

// render builds f's scene and runs out on it, turning a panic inside a drawing
// library into an error.
func render(f Figure, out func(scene) error) (err error) {
	s, err := buildScene(f)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("viz: drawing %T: %v", f, r)
		}
	}()
	return out(s)
}
