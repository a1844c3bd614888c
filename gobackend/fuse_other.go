//go:build !amd64

package gobackend

// simdBinary: no vector loops on this architecture (the Go loops do it all).
func simdBinary(op fop, o, a, b []float32, sa, sb int) int { return 0 }
