//go:build !linux

package core

import "os"

// syncData makes a journal append durable (fsync where fdatasync is not
// available).
func syncData(f *os.File) error { return f.Sync() }
