//go:build !linux && !darwin

package sandbox

// processStart is unknown outside Linux and macOS; the lock then falls back to the
// pid alone.
func processStart(int) string { return "" }
