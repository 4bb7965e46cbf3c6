//go:build !linux

package sandbox

// processStart is unknown outside Linux; the lock then falls back to the
// pid alone.
func processStart(int) string { return "" }
